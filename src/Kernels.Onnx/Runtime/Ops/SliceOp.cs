namespace Kernels.Onnx.Runtime.Ops;

/// <summary>
/// Slice: per named axis, elements start, start + step, ... before end. Before opset 10 starts, ends and axes are
/// attributes (step 1); from 10 they are int64 inputs known while planning, with optional axes (default 0, 1, ...)
/// and steps (default 1; negative walks back; 0 is malformed). As numpy and ONNX define it: a negative start or end
/// counts from the end, then both are clamped to [0, n] (a negative step: start to [0, n - 1], end to [-1, n - 1]).
/// Floats are a <see cref="StridedCopy"/>; int64 values known while planning are sliced then.
/// </summary>
internal sealed class SliceOp : CopyOp
{
    private readonly long[]? _starts, _ends, _axes;

    private SliceOp(OpContext c, long[]? starts, long[]? ends, long[]? axes)
        : base(c.Node, c.Opset >= 10 ? [c.Input(0), c.Input(1), c.Input(2), c.Input(3), c.Input(4)] : [c.Input(0)], c.SupportedOutputs(1))
    {
        (_starts, _ends, _axes) = (starts, ends, axes);
    }

    public static Op Create(OpContext c)
    {
        NodeAttributes a = c.Attributes;
        if (c.Opset >= 10)
        {
            a.OnlyKnown();
            c.Arity(3, 5);
            return new SliceOp(c, null, null, null);
        }
        a.OnlyKnown("axes", "ends", "starts");
        c.Arity(1, 1);
        return new SliceOp(c, a.Ints("starts") ?? throw a.Malformed("Slice needs the attribute starts"),
            a.Ints("ends") ?? throw a.Malformed("Slice needs the attribute ends"), a.Ints("axes"));
    }

    public override Step Plan(PlanContext p)
    {
        int[] d = p.Dims[Inputs[0]]!;
        long[] starts = _starts ?? Ints(p, 1, "starts"), ends = _ends ?? Ints(p, 2, "ends");
        long[]? axes = _starts is null ? Optional(p, 3, "axes") : _axes, steps = _starts is null ? Optional(p, 4, "steps") : null;
        if (ends.Length != starts.Length || axes is not null && axes.Length != starts.Length || steps is not null
            && steps.Length != starts.Length)
            throw Invalid($"starts {Format(starts)}, ends {Format(ends)}, axes {Format(axes ?? [])} and steps " +
                $"{Format(steps ?? [])} differ in length");
        int[] at = axes is null ? [.. Enumerable.Range(0, starts.Length)] : Axes(axes, d.Length, "axes");
        if (axes is null && starts.Length > d.Length) throw Invalid($"starts {Format(starts)} has more values than the input " +
            $"{Format(d)} has dims");
        int[] y = (int[])d.Clone();
        long[] inStrides = Strides(d), strides = (long[])inStrides.Clone();
        long offset = 0;
        for (int i = 0; i < at.Length; i++)
        {
            int k = at[i];
            long step = steps?[i] ?? 1;
            if (step == 0) throw Invalid($"steps {Format(steps!)} has a 0 (for axis {k})");
            (long start, long count) = Range(starts[i], ends[i], step, d[k]);
            y[k] = (int)count;
            offset += start * inStrides[k];
            strides[k] = count > 1 ? step * inStrides[k] : 0; // a huge step taken at most once never multiplies
        }
        return Copy(p, y, strides, offset, "data");
    }

    private long[]? Optional(PlanContext p, int input, string name) => Inputs[input] >= 0 ? Ints(p, input, name) : null;

    /// <summary>The first index and the count of start, start + step, ... before end on a dim of n (no step is 0).</summary>
    public static (long Start, long Count) Range(long start, long end, long step, int n)
    {
        if (n == 0) return (0, 0);
        // start + n cannot wrap: start is negative there and n positive.
        if (start < 0) start += n;
        if (end < 0) end += n;
        if (step > 0)
        {
            (start, end) = (Math.Clamp(start, 0, n), Math.Clamp(end, 0, n));
            return (start, end > start ? (end - start - 1) / step + 1 : 0);
        }
        (start, end) = (Math.Clamp(start, 0, n - 1), Math.Clamp(end, -1, n - 1));
        long back = step == long.MinValue ? long.MaxValue : -step; // start - end is below 2^31: either bound takes one step
        return (start, start > end ? (start - end - 1) / back + 1 : 0);
    }
}
