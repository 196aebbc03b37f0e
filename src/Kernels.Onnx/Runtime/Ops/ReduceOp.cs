using System.Numerics.Tensors;

namespace Kernels.Onnx.Runtime.Ops;

/// <summary>
/// ReduceSum, ReduceMean and ReduceMax over a set of axes of a float value. The axes are the attribute axes, or from
/// opset 18 (ReduceSum: 13) the optional int64 input axes known while planning; no axes reduce every axis, or with
/// noop_with_empty_axes = 1 leave the input as it is (a view). keepdims (default 1) keeps each reduced axis as a 1.
/// The dims are merged at planning into alternating kept and reduced runs; every output element combines its inputs
/// in one fixed order (row-major over the reduced axes, the innermost reduced run summed by one TensorPrimitives
/// call), so results do not depend on the thread count. An empty reduction gives 0 (sum), NaN (mean) or -inf (max).
/// </summary>
internal sealed class ReduceOp(OpContext c, ReduceOp.Kind kind, long[]? axes, bool keepDims, bool noop, bool axesInput)
    : Op(c.Node, axesInput ? [c.Input(0), c.Input(1)] : [c.Input(0)], c.SupportedOutputs(1))
{
    public enum Kind { Sum, Mean, Max }

    private readonly Kind _kind = kind;

    public static Op Sum(OpContext c) => Create(c, Kind.Sum, axesInputSince: 13);

    public static Op Mean(OpContext c) => Create(c, Kind.Mean, axesInputSince: 18);

    public static Op Max(OpContext c) => Create(c, Kind.Max, axesInputSince: 18);

    private static ReduceOp Create(OpContext c, Kind kind, int axesInputSince)
    {
        NodeAttributes a = c.Attributes;
        bool input = c.Opset >= axesInputSince;
        a.OnlyKnown(input ? ["keepdims", "noop_with_empty_axes"] : ["axes", "keepdims"]);
        c.Arity(1, input ? 2 : 1);
        return new ReduceOp(c, kind, input ? null : a.Ints("axes"), a.Int("keepdims", 1) != 0, a.Int("noop_with_empty_axes",
            0) != 0, input);
    }

    public override Step Plan(PlanContext p)
    {
        int[] d = Float(p, 0, "data");
        long[]? given = axesInput && Inputs[1] >= 0 ? Ints(p, 1, "axes") : axes;
        if (given is null || given.Length == 0)
        {
            if (noop)
            {
                p.Define(Output, d, Node);
                return new NoStep(aliasOf: 0);
            }
            given = [.. Enumerable.Range(0, d.Length).Select(k => (long)k)];
        }
        int[] at = Axes(given, d.Length, "axes");
        bool Reduced(int k) => Array.IndexOf(at, k) >= 0;
        int[] y = keepDims ? [.. d.Select((n, k) => Reduced(k) ? 1 : n)] : [.. d.Where((_, k) => !Reduced(k))];
        p.Define(Output, y, Node);

        // Runs of kept or reduced dims (1s dropped), outermost first; a kept run's output stride is the kept dims after it.
        var runs = new List<Segment>();
        long[] strides = Strides(d);
        for (int k = 0; k < d.Length; k++)
        {
            if (d[k] == 1) continue;
            if (runs.Count > 0 && runs[^1].Reduced == Reduced(k)) runs[^1] = runs[^1] with { Length = runs[^1].Length * d[k], Stride = strides[k] };
            else runs.Add(new Segment(d[k], Reduced(k), strides[k], 0));
        }
        long outStride = 1;
        for (int r = runs.Count - 1; r >= 0; r--)
            if (!runs[r].Reduced) (runs[r], outStride) = (runs[r] with { OutStride = outStride }, outStride * runs[r].Length);
        if (runs.Count == 0) runs.Add(new Segment(1, false, 1, 1)); // one element: combined with the initial value
        long count = Sizes.Elements(d), reduced = 1;
        foreach (int k in at) reduced = Sizes.Product(reduced, d[k]);
        return new ReduceStep(this, [.. runs], count == 0, reduced);
    }

    /// <param name="Length">Elements of the run.</param>
    /// <param name="Reduced">Whether its dims are reduced or kept.</param>
    /// <param name="Stride">The input stride of its innermost dim.</param>
    /// <param name="OutStride">The output stride of a kept run (0 for a reduced one).</param>
    private readonly record struct Segment(int Length, bool Reduced, long Stride, long OutStride);

    private sealed class ReduceStep(ReduceOp op, Segment[] runs, bool empty, long reduced) : Step
    {
        public override void Run(Frame f)
        {
            Span<float> dst = f.Write(op.Output);
            dst.Fill(op._kind == Kind.Max ? float.NegativeInfinity : 0f);
            if (!empty) Walk(f.Read(op.Inputs[0]), dst, 0, 0, 0);
            if (op._kind == Kind.Mean) TensorPrimitives.Divide(dst, reduced, dst);
        }

        private void Walk(ReadOnlySpan<float> src, Span<float> dst, int level, long s, long d)
        {
            Segment run = runs[level];
            if (level < runs.Length - 1)
            {
                for (int i = 0; i < run.Length; i++) Walk(src, dst, level + 1, s + i * run.Stride, d + i * run.OutStride);
                return;
            }
            ReadOnlySpan<float> x = src.Slice((int)s, run.Length);
            bool max = op._kind == Kind.Max;
            if (run.Reduced) dst[(int)d] = max ? Math.Max(dst[(int)d], TensorPrimitives.Max(x)) : dst[(int)d] + TensorPrimitives.Sum(x);
            else if (max) TensorPrimitives.Max(dst.Slice((int)d, run.Length), x, dst.Slice((int)d, run.Length));
            else TensorPrimitives.Add(dst.Slice((int)d, run.Length), x, dst.Slice((int)d, run.Length));
        }
    }
}
