using System.Numerics.Tensors;

namespace Kernels.Onnx.Runtime.Ops.Elementwise;

/// <summary>Div: <c>y = a / b</c> on TensorPrimitives (IEEE: x / 0 is inf or NaN); int64 for shapes truncates toward
/// zero, and a zero divisor is malformed.</summary>
internal readonly struct Div : IBinaryOperator
{
    public static Op Create(OpContext c) => BinaryOp<Div>.Arithmetic(c);

    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Divide(a, b, y);

    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Divide(a, b, y);

    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Divide(a, b, y);

    public static long? Apply(long a, long b) => checked(a / b);
}
