namespace Kernels.Onnx.Runtime.Ops.Elementwise;

/// <summary>Sigmoid: <c>1 / (1 + exp(-x))</c> on the library's <see cref="Kernels.Sigmoid"/> (SiLU is exported as
/// Sigmoid then Mul).</summary>
internal readonly struct SigmoidFunction : IUnaryFunction
{
    public static Op Create(OpContext c) => UnaryOp<SigmoidFunction>.Plain(c);

    public void Apply(ReadOnlySpan<float> x, Span<float> y, int degree) => Kernels.Sigmoid.Forward(x, y, degree);
}
