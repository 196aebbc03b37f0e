namespace Kernels.Onnx.Runtime.Ops.Elementwise;

/// <summary>Relu (opsets 1, 6, 13, 14): <c>max(x, 0)</c> on the library's fast element-wise kernel.</summary>
internal readonly struct ReluFunction : IUnaryFunction
{
    public static Op Create(OpContext c) => UnaryOp<ReluFunction>.Plain(c);

    public void Apply(ReadOnlySpan<float> x, Span<float> y, int degree) => Relu.Forward(x, y, degree);
}
