using System.Numerics.Tensors;

namespace Kernels.Onnx.Runtime.Ops.Elementwise;

/// <summary>Mul: <c>y = a * b</c> on TensorPrimitives (squeeze-and-excitation gates are one scalar call per plane);
/// int64 for shapes (checked).</summary>
internal readonly struct Mul : IBinaryOperator
{
    public static Op Create(OpContext c) => BinaryOp<Mul>.Arithmetic(c);

    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Multiply(a, b, y);

    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Multiply(a, b, y);

    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Multiply(b, a, y);

    public static long? Apply(long a, long b) => checked(a * b);
}
