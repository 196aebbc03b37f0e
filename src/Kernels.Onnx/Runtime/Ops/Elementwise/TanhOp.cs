using System.Numerics.Tensors;

namespace Kernels.Onnx.Runtime.Ops.Elementwise;

/// <summary>Tanh.</summary>
internal readonly struct TanhFunction : IUnaryFunction
{
    public static Op Create(OpContext c) => UnaryOp<TanhFunction>.Plain(c);

    public void Apply(ReadOnlySpan<float> x, Span<float> y, int degree) => TensorPrimitives.Tanh(x, y);
}
