namespace Kernels.Onnx.Runtime.Ops;

/// <summary>
/// Split along one axis (default 0, negative from opset 11) into the node's outputs, one part each. The part sizes are
/// the attribute split (before 13; in opset 1 also an optional second input), the int64 input split (13 on), or
/// equal parts: the axis must divide by the outputs, or, with num_outputs (18 on), parts of ceil(n / num_outputs) and
/// a smaller last one. Sizes that do not sum to the axis' dim are malformed. Each float part is a
/// <see cref="StridedCopy"/> (one block per outer index); int64 values known while planning are split then.
/// </summary>
internal sealed class SplitOp(OpContext c, long axis, long[]? split, long numOutputs)
    : Op(c.Node, c.Opset >= 13 || c.Opset == 1 ? [c.Input(0), c.Input(1)] : [c.Input(0)], c.Outputs)
{
    public static Op Create(OpContext c)
    {
        NodeAttributes a = c.Attributes;
        a.OnlyKnown(c.Opset >= 18 ? ["axis", "num_outputs"] : c.Opset >= 13 ? ["axis"] : ["axis", "split"]);
        c.Arity(1, c.Opset >= 13 || c.Opset == 1 ? 2 : 1);
        long[]? split = a.Ints("split");
        if (c.Opset == 1 && split is not null && c.Input(1) >= 0) throw a.Malformed("Split has both the attribute split and the " +
            "input split");
        long parts = a.Int("num_outputs", 0);
        if (a.Has("num_outputs") && (c.Input(1) >= 0 || parts != c.Outputs.Length))
            throw a.Malformed(c.Input(1) >= 0 ? "Split has both the attribute num_outputs and the input split"
                : $"num_outputs is {parts} but the node has {c.Outputs.Length} outputs");
        return new SplitOp(c, a.Int("axis", 0), split, parts);
    }

    public override Step Plan(PlanContext p)
    {
        int[] d = p.Dims[Inputs[0]]!;
        int a = Axis(axis, d.Length, "axis");
        long[] sizes = PartSizes(Inputs.Length > 1 && Inputs[1] >= 0 ? Ints(p, 1, "split") : split, d[a]);
        long[] strides = Strides(d);
        bool known = IsKnown(p, 0);
        if (!known) Float(p, 0, "input");
        var parts = new StridedCopy?[Outputs.Length];
        long start = 0;
        for (int j = 0; j < Outputs.Length; j++)
        {
            int[] y = (int[])d.Clone();
            y[a] = (int)sizes[j];
            var part = new StridedCopy(y, strides, start * strides[a]);
            start += sizes[j];
            if (Outputs[j] < 0) continue;
            if (known) part.Run<long>(p.Ints[Inputs[0]]!, DefineKnown(p, Outputs[j], y));
            else
            {
                p.Define(Outputs[j], y, Node);
                parts[j] = part;
            }
        }
        return known ? NoStep.Known : new SplitStep(this, parts);
    }

    /// <summary>Each output's size along the axis, checked to be non-negative and to sum to <paramref name="n"/>.</summary>
    private long[] PartSizes(long[]? given, int n)
    {
        int count = Outputs.Length;
        if (given is null)
        {
            long each = numOutputs > 0 ? (n + count - 1) / count : n / count;
            if (numOutputs == 0 && n % count != 0) throw Invalid($"the axis has {n} elements, which {count} outputs cannot split equally");
            if (each * (count - 1) > n) throw Invalid($"the axis has {n} elements, fewer than num_outputs {count} parts of {each} need");
            given = [.. Enumerable.Repeat(each, count - 1), n - each * (count - 1)];
        }
        if (given.Length != count) throw Invalid($"split {Format(given)} has {given.Length} sizes but the node has {count} outputs");
        long sum = 0;
        foreach (long s in given)
        {
            if (s < 0 || s > n) throw Invalid($"split {Format(given)} has the size {s}, outside [0, {n}]");
            sum += s;
        }
        if (sum != n) throw Invalid($"split {Format(given)} sums to {sum} but the axis has {n} elements");
        return given;
    }

    private sealed class SplitStep(SplitOp op, StridedCopy?[] parts) : Step
    {
        public override void Run(Frame f)
        {
            ReadOnlySpan<float> src = f.Read(op.Inputs[0]);
            for (int j = 0; j < parts.Length; j++) parts[j]?.Run(src, f.Write(op.Outputs[j]));
        }
    }
}
