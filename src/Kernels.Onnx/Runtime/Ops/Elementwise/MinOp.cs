using System.Numerics.Tensors;

namespace Kernels.Onnx.Runtime.Ops.Elementwise;

/// <summary>Min of one or more inputs (NaN propagates, as numpy.minimum); int64 for shapes.</summary>
internal readonly struct Min : IBinaryOperator
{
    public static Op Create(OpContext c) => BinaryOp<Min>.Variadic(c);

    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Min(a, b, y);

    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Min(a, b, y);

    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Min(b, a, y);

    public static long? Apply(long a, long b) => Math.Min(a, b);
}
