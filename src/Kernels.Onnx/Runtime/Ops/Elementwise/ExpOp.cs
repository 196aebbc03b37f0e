using System.Numerics.Tensors;

namespace Kernels.Onnx.Runtime.Ops.Elementwise;

/// <summary>Exp.</summary>
internal readonly struct ExpFunction : IUnaryFunction
{
    public static Op Create(OpContext c) => UnaryOp<ExpFunction>.Plain(c);

    public void Apply(ReadOnlySpan<float> x, Span<float> y, int degree) => TensorPrimitives.Exp(x, y);
}
