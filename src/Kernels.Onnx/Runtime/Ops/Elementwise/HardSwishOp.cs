using System.Numerics.Tensors;

namespace Kernels.Onnx.Runtime.Ops.Elementwise;

/// <summary>HardSwish (opset 14): <c>x * max(0, min(1, x / 6 + 1/2))</c>, PyTorch's hardswish.</summary>
internal readonly struct HardSwishFunction : IUnaryFunction
{
    public static Op Create(OpContext c) => UnaryOp<HardSwishFunction>.Plain(c);

    public void Apply(ReadOnlySpan<float> x, Span<float> y, int degree)
    {
        new HardSigmoidFunction(1f / 6, 0.5f).Apply(x, y, degree);
        TensorPrimitives.Multiply(x, y, y);
    }
}
