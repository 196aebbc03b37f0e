namespace Kernels.Onnx.Runtime.Ops.Elementwise;

/// <summary>Elu: <c>x</c> for x &gt; 0, else <c>alpha (exp(x) - 1)</c> (alpha 1 by default), on the library's <see
/// cref="Kernels.Elu"/>.</summary>
internal readonly struct EluFunction(float alpha) : IUnaryFunction
{
    public static Op Create(OpContext c)
    {
        c.Attributes.OnlyKnown(c.Opset < 6 ? ["alpha", "consumed_inputs"] : ["alpha"]);
        c.Arity(1, 1);
        float alpha = c.Attributes.Float("alpha", 1f);
        if (!float.IsFinite(alpha)) throw c.Attributes.Unsupported("alpha", $"= {alpha} (not finite)");
        return new UnaryOp<EluFunction>(c, new(alpha));
    }

    public void Apply(ReadOnlySpan<float> x, Span<float> y, int degree) => Kernels.Elu.Forward(x, y, alpha, degree);
}
