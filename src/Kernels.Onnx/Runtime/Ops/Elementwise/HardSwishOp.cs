namespace Kernels.Onnx.Runtime.Ops.Elementwise;

/// <summary>HardSwish (opset 14): <c>x * max(0, min(1, x / 6 + 1/2))</c> = PyTorch's hardswish, on the library's <see
/// cref="Kernels.HardSwish"/>.</summary>
internal readonly struct HardSwishFunction : IUnaryFunction
{
    public static Op Create(OpContext c) => UnaryOp<HardSwishFunction>.Plain(c);

    public void Apply(ReadOnlySpan<float> x, Span<float> y, int degree) => Kernels.HardSwish.Forward(x, y, degree);
}
