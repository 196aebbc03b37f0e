using System.Numerics.Tensors;

namespace Kernels.Onnx.Runtime.Ops.Elementwise;

/// <summary>Log (natural).</summary>
internal readonly struct LogFunction : IUnaryFunction
{
    public static Op Create(OpContext c) => UnaryOp<LogFunction>.Plain(c);

    public void Apply(ReadOnlySpan<float> x, Span<float> y, int degree) => TensorPrimitives.Log(x, y);
}
