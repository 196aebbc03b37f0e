namespace Kernels.Onnx.Runtime.Ops.Elementwise;

/// <summary>Elu: <c>x</c> for x &gt;= 0, else <c>alpha (exp(x) - 1)</c> (alpha 1 by default), in double: exp(x) - 1 cancels near 0.</summary>
internal readonly struct EluFunction(float alpha) : IUnaryFunction
{
    public static Op Create(OpContext c)
    {
        c.Attributes.OnlyKnown(c.Opset < 6 ? ["alpha", "consumed_inputs"] : ["alpha"]);
        c.Arity(1, 1);
        return new UnaryOp<EluFunction>(c, new(c.Attributes.Float("alpha", 1f)));
    }

    public void Apply(ReadOnlySpan<float> x, Span<float> y, int degree)
    {
        for (int i = 0; i < x.Length; i++) y[i] = x[i] >= 0 ? x[i] : (float)(alpha * (Math.Exp(x[i]) - 1));
    }
}
