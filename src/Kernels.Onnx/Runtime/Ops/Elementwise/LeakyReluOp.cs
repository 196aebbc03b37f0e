namespace Kernels.Onnx.Runtime.Ops.Elementwise;

/// <summary>LeakyRelu: <c>x</c> for x &gt; 0, else <c>alpha x</c> (alpha 0.01 by default), on the library's <see
/// cref="Kernels.LeakyRelu"/>.</summary>
internal readonly struct LeakyReluFunction(float alpha) : IUnaryFunction
{
    public static Op Create(OpContext c)
    {
        c.Attributes.OnlyKnown(c.Opset < 6 ? ["alpha", "consumed_inputs"] : ["alpha"]);
        c.Arity(1, 1);
        float alpha = c.Attributes.Float("alpha", 0.01f);
        if (!float.IsFinite(alpha)) throw c.Attributes.Unsupported("alpha", $"= {alpha} (not finite)");
        return new UnaryOp<LeakyReluFunction>(c, new(alpha));
    }

    public void Apply(ReadOnlySpan<float> x, Span<float> y, int degree) => Kernels.LeakyRelu.Forward(x, y, alpha, degree);
}
