namespace Kernels.Onnx.Runtime.Ops.Elementwise;

/// <summary>
/// Clip: <c>min(max(x, lo), hi)</c> (ReLU6 is Clip 0, 6). The bounds are the attributes min and max before opset 11
/// and the optional inputs min and max from 11 (constant scalars: computed bounds are not supported); an absent
/// bound is -inf or +inf. NaN stays NaN. Runs on the library's <see cref="Kernels.Clip"/>; NaN bounds, or a min above the
/// max, are refused by name (ONNX leaves them undefined).
/// </summary>
internal readonly struct ClipFunction(float low, float high) : IUnaryFunction
{
    public static Op Create(OpContext c)
    {
        NodeAttributes a = c.Attributes;
        if (c.Opset < 11)
        {
            a.OnlyKnown(c.Opset < 6 ? ["consumed_inputs", "max", "min"] : ["max", "min"]);
            c.Arity(1, 1);
            return Checked(c, a.Float("min", float.NegativeInfinity), a.Float("max", float.PositiveInfinity));
        }
        a.OnlyKnown();
        c.Arity(1, 3);
        return Checked(c, Bound(c, 1, "min", float.NegativeInfinity), Bound(c, 2, "max", float.PositiveInfinity));
    }

    private static Op Checked(OpContext c, float low, float high) => float.IsNaN(low) || float.IsNaN(high) || low > high
        ? throw c.Unsupported($"Clip bounds [{low}, {high}] (NaN, or min above max)")
        : new UnaryOp<ClipFunction>(c, new(low, high));

    private static float Bound(OpContext c, int input, string name, float absent)
    {
        if (c.Input(input) < 0) return absent;
        float[] v = c.ConstantFloats(input, name);
        return v.Length == 1 ? v[0] : throw c.Malformed($"input {name} has {v.Length} values but must be a scalar");
    }

    public void Apply(ReadOnlySpan<float> x, Span<float> y, int degree) => Kernels.Clip.Forward(x, y, low, high, degree);
}
