namespace Kernels.Onnx.Runtime.Ops;

/// <summary>Flatten: (d0..d[axis-1]) x (d[axis]..), axis in [-rank, rank] (negative from opset 11); a view of the input.</summary>
internal sealed class FlattenOp(OpContext c, long axis) : Op(c.Node, [c.Input(0)], c.SupportedOutputs(1))
{
    public static Op Create(OpContext c)
    {
        c.Attributes.OnlyKnown("axis");
        c.Arity(1, 1);
        return new FlattenOp(c, c.Attributes.Int("axis", 1));
    }

    public override Step Plan(PlanContext p)
    {
        int[] d = Float(p, 0, "input");
        long a = axis < 0 ? axis + d.Length : axis;
        if (a < 0 || a > d.Length) throw Invalid($"axis {axis} is outside [-{d.Length}, {d.Length}] for X {Format(d)}");
        p.Define(Output, [(int)Sizes.Elements(d.AsSpan(0, (int)a)), (int)Sizes.Elements(d.AsSpan((int)a))], Node);
        return new NoStep(aliasOf: 0);
    }
}
