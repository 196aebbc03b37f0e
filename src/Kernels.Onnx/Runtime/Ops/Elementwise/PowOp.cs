using System.Numerics.Tensors;

namespace Kernels.Onnx.Runtime.Ops.Elementwise;

/// <summary>
/// Pow: <c>y = a ^ b</c> (float exponents; LayerNorm's decomposed variance is <c>Pow(x - mean, 2)</c>). A scalar exponent
/// of 2 is x * x: exact, where the general power is within an ulp or two.
/// </summary>
internal readonly struct Pow : IBinaryOperator
{
    public static Op Create(OpContext c) => BinaryOp<Pow>.Arithmetic(c);

    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Pow(a, b, y);

    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y)
    {
        if (b == 2f) TensorPrimitives.Multiply(a, a, y);
        else TensorPrimitives.Pow(a, b, y);
    }

    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Pow(a, b, y);

    public static long? Apply(long a, long b) => null;
}
