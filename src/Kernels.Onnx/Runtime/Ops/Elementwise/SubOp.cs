using System.Numerics.Tensors;

namespace Kernels.Onnx.Runtime.Ops.Elementwise;

/// <summary>Sub: <c>y = a - b</c> on TensorPrimitives; int64 for shapes (checked).</summary>
internal readonly struct Sub : IBinaryOperator
{
    public static Op Create(OpContext c) => BinaryOp<Sub>.Arithmetic(c);

    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Subtract(a, b, y);

    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Subtract(a, b, y);

    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Subtract(a, b, y);

    public static long? Apply(long a, long b) => checked(a - b);
}
