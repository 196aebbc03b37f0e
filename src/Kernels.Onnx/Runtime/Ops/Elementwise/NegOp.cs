using System.Numerics.Tensors;

namespace Kernels.Onnx.Runtime.Ops.Elementwise;

/// <summary>Neg: <c>-x</c>.</summary>
internal readonly struct NegFunction : IUnaryFunction
{
    public static Op Create(OpContext c) => UnaryOp<NegFunction>.Plain(c);

    public void Apply(ReadOnlySpan<float> x, Span<float> y, int degree) => TensorPrimitives.Negate(x, y);
}
