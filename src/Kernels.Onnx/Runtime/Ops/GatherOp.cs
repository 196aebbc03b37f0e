namespace Kernels.Onnx.Runtime.Ops;

/// <summary>
/// Gather along one axis (default 0, negative from opset 11): y = data[..., indices[j...], ...], the indices an int64
/// value known while planning (a constant or a shape), each in [-n, n - 1] for the axis' n (an index outside is
/// malformed, found while planning). On int64 data known while planning (a shape) the result is computed then; on
/// floats each index copies one block of the dims after the axis.
/// </summary>
internal sealed class GatherOp(OpContext c, long axis) : Op(c.Node, [c.Input(0), c.Input(1)], c.SupportedOutputs(1))
{
    public static Op Create(OpContext c)
    {
        c.Attributes.OnlyKnown("axis");
        c.Arity(2, 2);
        return new GatherOp(c, c.Attributes.Int("axis", 0));
    }

    public override Step Plan(PlanContext p)
    {
        int[] d = p.Dims[Inputs[0]]!;
        long[] indices = Ints(p, 1, "indices");
        int[] indexDims = p.Dims[Inputs[1]]!;
        int a = Axis(axis, d.Length, "axis");
        int[] y = [.. d[..a], .. indexDims, .. d[(a + 1)..]];
        p.Charge(indices.Length, Node, "the resolved indices");
        var at = new int[indices.Length];
        for (int j = 0; j < indices.Length; j++)
        {
            long i = indices[j];
            if (i < -d[a] || i >= d[a]) throw Invalid($"index {i} is outside [-{d[a]}, {d[a] - 1}] for axis {a} of the data {Format(d)}");
            at[j] = (int)(i < 0 ? i + d[a] : i);
        }
        var gather = new Gathering(at, (int)Sizes.Elements(d.AsSpan(0, a)), d[a], (int)Sizes.Elements(d.AsSpan(a + 1)));
        if (IsKnown(p, 0))
        {
            gather.Run<long>(p.Ints[Inputs[0]]!, DefineKnown(p, Output, y));
            return NoStep.Known;
        }
        Float(p, 0, "data");
        p.Define(Output, y, Node);
        return new GatherStep(this, gather);
    }

    /// <summary>Per outer index, one block of <c>inner</c> elements per index (all resolved to [0, length)).</summary>
    private sealed record Gathering(int[] Indices, int Outer, int Length, int Inner)
    {
        public void Run<T>(ReadOnlySpan<T> src, Span<T> dst)
        {
            int block = Inner, taken = Indices.Length * block;
            for (int o = 0; o < Outer; o++)
                for (int j = 0; j < Indices.Length; j++)
                    src.Slice((o * Length + Indices[j]) * block, block).CopyTo(dst.Slice(o * taken + j * block, block));
        }
    }

    private sealed class GatherStep(GatherOp op, Gathering gather) : Step
    {
        public override void Run(Frame f) => gather.Run(f.Read(op.Inputs[0]), f.Write(op.Output));
    }
}
