namespace Kernels.Onnx.Runtime.Ops.Elementwise;

/// <summary>
/// HardSigmoid: <c>max(0, min(1, alpha x + beta))</c>, alpha 0.2 and beta 0.5 by default (PyTorch's is alpha 1/6).
/// alpha x + beta is one fused multiply-add: near the lower kink it cancels, and two roundings were measured 340 ulps off.
/// </summary>
internal readonly struct HardSigmoidFunction(float alpha, float beta) : IUnaryFunction
{
    public static Op Create(OpContext c)
    {
        NodeAttributes a = c.Attributes;
        a.OnlyKnown(c.Opset < 6 ? ["alpha", "beta", "consumed_inputs"] : ["alpha", "beta"]);
        c.Arity(1, 1);
        return new UnaryOp<HardSigmoidFunction>(c, new(a.Float("alpha", 0.2f), a.Float("beta", 0.5f)));
    }

    public void Apply(ReadOnlySpan<float> x, Span<float> y, int degree)
    {
        for (int i = 0; i < x.Length; i++) y[i] = Math.Clamp(MathF.FusedMultiplyAdd(alpha, x[i], beta), 0f, 1f);
    }
}
