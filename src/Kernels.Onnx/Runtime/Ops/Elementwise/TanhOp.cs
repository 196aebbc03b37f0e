namespace Kernels.Onnx.Runtime.Ops.Elementwise;

/// <summary>
/// Tanh, in double then rounded (within an ulp, odd, tanh(+-0) = +-0). TensorPrimitives.Tanh was measured 4.5 ulps
/// off at -0.148 and gives 5.96e-8 for -0 (ElementwiseOpsTests), so it is not used; no zoo model has Tanh.
/// </summary>
internal readonly struct TanhFunction : IUnaryFunction
{
    public static Op Create(OpContext c) => UnaryOp<TanhFunction>.Plain(c);

    public void Apply(ReadOnlySpan<float> x, Span<float> y, int degree)
    {
        for (int i = 0; i < x.Length; i++) y[i] = (float)Math.Tanh(x[i]);
    }
}
