using System.Numerics.Tensors;

namespace Kernels.Onnx.Runtime.Ops.Elementwise;

/// <summary>Abs.</summary>
internal readonly struct AbsFunction : IUnaryFunction
{
    public static Op Create(OpContext c) => UnaryOp<AbsFunction>.Plain(c);

    public void Apply(ReadOnlySpan<float> x, Span<float> y, int degree) => TensorPrimitives.Abs(x, y);
}
