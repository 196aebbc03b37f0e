using System.Numerics.Tensors;

namespace Kernels.Onnx.Runtime.Ops.Elementwise;

/// <summary>Sqrt.</summary>
internal readonly struct SqrtFunction : IUnaryFunction
{
    public static Op Create(OpContext c) => UnaryOp<SqrtFunction>.Plain(c);

    public void Apply(ReadOnlySpan<float> x, Span<float> y, int degree) => TensorPrimitives.Sqrt(x, y);
}
