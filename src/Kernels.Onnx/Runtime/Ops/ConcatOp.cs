namespace Kernels.Onnx.Runtime.Ops;

/// <summary>
/// Concat along one axis (default 1 before opset 4, required from 4, negative from 11): per outer index, each input's
/// block in input order. Int64 inputs known while planning (shapes and constants) give a result computed then.
/// </summary>
internal sealed class ConcatOp(OpContext c, long axis) : Op(c.Node, c.Inputs, c.SupportedOutputs(1))
{
    public static Op Create(OpContext c)
    {
        NodeAttributes a = c.Attributes;
        a.OnlyKnown("axis");
        if (c.Inputs.Length == 0 || Array.IndexOf(c.Inputs, -1) >= 0) throw c.Malformed("Concat needs one or more inputs, none " +
            "of them empty");
        if (c.Opset >= 4 && !a.Has("axis")) throw a.Malformed("Concat needs the attribute axis");
        return new ConcatOp(c, a.Int("axis", 1));
    }

    public override Step Plan(PlanContext p)
    {
        bool known = IsKnown(p, 0);
        int[] first = known ? p.Dims[Inputs[0]]! : Float(p, 0, "input 0");
        long at = axis < 0 ? axis + first.Length : axis;
        if (at < 0 || at >= first.Length) throw Invalid($"axis {axis} is outside [-{first.Length}, {first.Length - 1}]");
        int a = (int)at;
        int[] result = (int[])first.Clone();
        long along = 0;
        for (int i = 0; i < Inputs.Length; i++)
        {
            int[] d = known ? p.Dims[Inputs[i]]! : Float(p, i, $"input {i}");
            if (known) Ints(p, i, $"input {i}");
            if (d.Length != first.Length) throw Invalid($"input {i} has rank {d.Length} but input 0 has rank {first.Length}");
            for (int k = 0; k < d.Length; k++)
                if (k != a && d[k] != first[k]) throw Invalid($"input {i} {Format(d)} differs from input 0 {Format(first)} in " +
                    $"dimension {k}");
            along += d[a];
        }
        if (along > int.MaxValue) throw Invalid($"the inputs have {along} elements along axis {a} together");
        result[a] = (int)along;
        if (known)
        {
            long[] y = DefineKnown(p, Output, result);
            int outer = (int)Sizes.Elements(result.AsSpan(0, a)), inner = (int)Sizes.Elements(result.AsSpan(a + 1)), offset = 0;
            foreach (int input in Inputs)
            {
                int block = p.Dims[input]![a] * inner;
                Place<long>(p.Ints[input], y, outer, block, result[a] * inner, offset);
                offset += block;
            }
            return NoStep.Known;
        }
        p.Define(Output, result, Node);
        return new ConcatStep(this, a);
    }

    /// <summary>Puts an input's block of each outer index at <paramref name="offset"/> in the output's row of that index.</summary>
    private static void Place<T>(ReadOnlySpan<T> src, Span<T> dst, int outer, int block, int row, int offset)
    {
        for (int o = 0; o < outer; o++) src.Slice(o * block, block).CopyTo(dst.Slice(o * row + offset, block));
    }

    private sealed class ConcatStep(ConcatOp op, int axis) : Step
    {
        public override void Run(Frame f)
        {
            int[] y = f.Dims(op.Output);
            int outer = (int)Sizes.Elements(y.AsSpan(0, axis)), inner = (int)Sizes.Elements(y.AsSpan(axis + 1));
            Span<float> dst = f.Write(op.Output);
            int offset = 0, row = y[axis] * inner;
            foreach (int input in op.Inputs)
            {
                int block = f.Dims(input)[axis] * inner;
                Place(f.Read(input), dst, outer, block, row, offset);
                offset += block;
            }
        }
    }
}
