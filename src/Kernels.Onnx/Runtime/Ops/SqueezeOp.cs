namespace Kernels.Onnx.Runtime.Ops;

/// <summary>
/// Squeeze and Unsqueeze: the input under dims without (with) the 1s at the axes, a view for floats and the same data
/// for int64 values known while planning. The axes are an attribute before opset 13 and an int64 input from 13
/// (negative from 11); Squeeze without axes drops every 1.
/// </summary>
internal sealed class SqueezeOp(OpContext c, bool unsqueeze, long[]? axes) : Op(c.Node, c.Opset >= 13 ? [c.Input(0), c.Input(1)]
    : [c.Input(0)], c.SupportedOutputs(1))
{
    public static Op Squeeze(OpContext c) => Create(c, unsqueeze: false);

    public static Op Unsqueeze(OpContext c) => Create(c, unsqueeze: true);

    private static SqueezeOp Create(OpContext c, bool unsqueeze)
    {
        NodeAttributes a = c.Attributes;
        a.OnlyKnown(c.Opset >= 13 ? [] : ["axes"]);
        c.Arity(unsqueeze && c.Opset >= 13 ? 2 : 1, c.Opset >= 13 ? 2 : 1);
        long[]? axes = c.Opset >= 13 ? null : a.Ints("axes");
        if (unsqueeze && c.Opset < 13 && axes is null) throw a.Malformed("Unsqueeze needs the attribute axes");
        return new SqueezeOp(c, unsqueeze, axes);
    }

    public override Step Plan(PlanContext p)
    {
        int[] d = p.Dims[Inputs[0]]!;
        long[]? given = Inputs.Length > 1 && Inputs[1] >= 0 ? Ints(p, 1, "axes") : axes;
        int[] y = unsqueeze ? Unsqueezed(d, given!) : Squeezed(d, given);
        if (!IsKnown(p, 0))
        {
            p.Define(Output, y, Node);
            return new NoStep(aliasOf: 0);
        }
        p.DefineKnown(Output, y, p.Ints[Inputs[0]]!); // known data is never written after it is defined: shared
        return NoStep.Known;
    }

    private int[] Unsqueezed(int[] d, long[] axes)
    {
        int rank = d.Length + axes.Length;
        int[] at = Axes(axes, rank, "axes");
        var y = new int[rank];
        for (int i = 0, k = 0; i < rank; i++) y[i] = Array.IndexOf(at, i) >= 0 ? 1 : d[k++];
        return y;
    }

    private int[] Squeezed(int[] d, long[]? axes)
    {
        if (axes is null || axes.Length == 0) return [.. d.Where(n => n != 1)]; // no axes, or an empty list (as ONNX Runtime reads it)
        int[] at = Axes(axes, d.Length, "axes");
        foreach (int k in at)
            if (d[k] != 1) throw Invalid($"axis {k} of the input {Format(d)} is {d[k]}, not 1");
        return [.. d.Where((_, k) => Array.IndexOf(at, k) < 0)];
    }
}
