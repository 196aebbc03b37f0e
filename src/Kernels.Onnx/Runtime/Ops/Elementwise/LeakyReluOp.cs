namespace Kernels.Onnx.Runtime.Ops.Elementwise;

/// <summary>LeakyRelu: <c>x</c> for x &gt;= 0, else <c>alpha x</c> (alpha 0.01 by default).</summary>
internal readonly struct LeakyReluFunction(float alpha) : IUnaryFunction
{
    public static Op Create(OpContext c)
    {
        c.Attributes.OnlyKnown(c.Opset < 6 ? ["alpha", "consumed_inputs"] : ["alpha"]);
        c.Arity(1, 1);
        return new UnaryOp<LeakyReluFunction>(c, new(c.Attributes.Float("alpha", 0.01f)));
    }

    public void Apply(ReadOnlySpan<float> x, Span<float> y, int degree)
    {
        for (int i = 0; i < x.Length; i++) y[i] = x[i] >= 0 ? x[i] : alpha * x[i];
    }
}
