using System.Numerics.Tensors;

namespace Kernels.Onnx.Runtime.Ops.Elementwise;

/// <summary>Max of one or more inputs (NaN propagates, as numpy.maximum); int64 for shapes.</summary>
internal readonly struct Max : IBinaryOperator
{
    public static Op Create(OpContext c) => BinaryOp<Max>.Variadic(c);

    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Max(a, b, y);

    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Max(a, b, y);

    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Max(b, a, y);

    public static long? Apply(long a, long b) => Math.Max(a, b);
}
