using System.Numerics.Tensors;

namespace Kernels.Onnx.Runtime.Ops.Elementwise;

/// <summary>Reciprocal: <c>1 / x</c>.</summary>
internal readonly struct ReciprocalFunction : IUnaryFunction
{
    public static Op Create(OpContext c) => UnaryOp<ReciprocalFunction>.Plain(c);

    public void Apply(ReadOnlySpan<float> x, Span<float> y, int degree) => TensorPrimitives.Reciprocal(x, y);
}
