namespace Kernels.Onnx.Runtime.Ops;

/// <summary>
/// Identity, and Dropout for inference (the output is the input; its mask output is refused when read, and a
/// training_mode input, from opset 12, must be absent or a constant false): a view of the input.
/// </summary>
internal sealed class IdentityOp(OpContext c) : Op(c.Node, [c.Input(0)], c.SupportedOutputs(1))
{
    public static Op Identity(OpContext c)
    {
        c.Attributes.OnlyKnown();
        c.Arity(1, 1);
        return new IdentityOp(c);
    }

    public static Op Dropout(OpContext c)
    {
        NodeAttributes a = c.Attributes;
        a.OnlyKnown(c.Opset < 6 ? ["consumed_inputs", "is_test", "ratio"] : c.Opset < 7 ? ["is_test", "ratio"] : c.Opset < 12
            ? ["ratio"] : ["seed"]);
        c.Arity(1, c.Opset >= 12 ? 3 : 1);
        if (c.Opset < 7 && a.Has("is_test") && a.Int("is_test", 0) == 0) throw a.Unsupported("is_test", "= 0 (training)");
        if (c.Input(2) >= 0 && (c.Constant(2) is not { } mode || (mode.Ints ?? []).Any(v => v != 0) || mode.Floats is not null))
            throw c.Unsupported("input training_mode must be absent or a constant false (inference only)");
        return new IdentityOp(c);
    }

    public override Step Plan(PlanContext p)
    {
        p.Define(Output, Float(p, 0, "input"), Node);
        return new NoStep(aliasOf: 0);
    }
}
