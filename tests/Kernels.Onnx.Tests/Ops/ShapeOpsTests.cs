using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Kernels.Onnx.Export;

namespace Kernels.Onnx.Tests.Ops;

/// <summary>
/// The shape and tensor ops against <see cref="Naive"/>: each property builds a one-op graph whose data is either a
/// runtime float input or an int64 initializer (the op then runs on values known while planning, folded at load,
/// and the graph casts its result to float), over generated dims, axes, perms and slice bounds; the copies must be
/// bit-exact, the sums within the fixtures' tolerance.
/// </summary>
public class ShapeOpsTests
{
    /// <summary>Slice bounds: small ones either side of every dim, and the INT64 extremes exporters write for "to the end".</summary>
    private static readonly long[] Bounds = [long.MinValue, -9, -4, -3, -2, -1, 0, 1, 2, 3, 4, 9, long.MaxValue];

    private static long[] L(IEnumerable<int> v) => [.. v.Select(i => (long)i)];

    /// <summary>Distinct small integers (exact as float and as int64), negative ones too.</summary>
    private static double[] Values(int[] dims) => [.. Enumerable.Range(0, (int)Naive.Count(dims)).Select(i => (double)(i * 3 - 7))];

    /// <summary>
    /// The data "x": a runtime float input, or (known) an int64 initializer beside a runtime input "u" that only
    /// passes through (a graph needs one).
    /// </summary>
    private static GraphWriter Data(bool known, int[] dims, double[] values) => known
        ? new GraphWriter().Input("u", 1).Node("Identity", ["u"], "v").Output("v", 1).Initializer("x", L(dims), [.. values.Select(v => (long)v)])
        : new GraphWriter().Input("x", L(dims));

    /// <summary>Loads the graph, checks each output's dims and runs it; known outputs go through a Cast to float.</summary>
    private static double[][] Run(GraphWriter g, bool known, double[] x, int opset, params (string Name, int[] Dims)[] outputs)
    {
        string[] names = [.. outputs.Select(o => known ? o.Name + "_f" : o.Name)];
        for (int o = 0; o < outputs.Length; o++)
        {
            if (known) g.Node("Cast", [outputs[o].Name], names[o], opset < 6 ? new NodeAttribute("to", Text: "FLOAT") : new NodeAttribute("to", 1L));
            g.Output(names[o], L(outputs[o].Dims));
        }
        OnnxModel model = OnnxModel.Load(g.ToBytes(opset), "ops.onnx");
        for (int o = 0; o < outputs.Length; o++) Assert.Equal(outputs[o].Dims, model.OutputMetadata[names[o]].Dimensions);
        float[][] ys = [.. outputs.Select(o => new float[Naive.Count(o.Dims)])];
        float[] input = known ? [0f] : [.. x.Select(v => (float)v)];
        model.Run([known ? "u" : "x"], [input], names, [.. ys.Select(y => new Memory<float>(y))]);
        return [.. ys.Select(y => y.Select(v => (double)v).ToArray())];
    }

    [Property(MaxTest = 200)]
    public Property Transpose_matches_the_oracle() =>
        Prop.ForAll(
            (from rank in Gen.Choose(1, 6)
             from dims in Gen.ArrayOf(Gen.Choose(1, rank <= 2 ? 40 : rank == 3 ? 9 : 3), rank)
             from perm in Gen.Shuffle(Enumerable.Range(0, rank).ToArray())
             from omit in Gen.Elements(false, false, true)
             from known in Gen.Elements(false, true)
             select (dims, perm: omit ? null : perm, known)).ToArbitrary(),
            c =>
            {
                int[] perm = c.perm ?? [.. Enumerable.Range(0, c.dims.Length).Reverse()];
                double[] x = Values(c.dims);
                (int[] y, double[] expected) = Naive.Transpose(x, c.dims, perm);
                NodeAttribute[] attributes = c.perm is null ? [] : [new("perm", Ints: L(perm))];
                GraphWriter g = Data(c.known, c.dims, x).Node("Transpose", ["x"], "y", attributes);
                Assert.Equal(expected, Run(g, c.known, x, 13, ("y", y))[0]);
            });

    [Property(MaxTest = 300)]
    public Property Slice_matches_the_oracle() =>
        Prop.ForAll(
            (from rank in Gen.Choose(1, 4)
             from dims in Gen.ArrayOf(Gen.Choose(1, 5), rank)
             from order in Gen.Shuffle(Enumerable.Range(0, rank).ToArray())
             from count in Gen.Choose(1, rank)
             from starts in Gen.ArrayOf(Gen.Elements(Bounds), count)
             from ends in Gen.ArrayOf(Gen.Elements(Bounds), count)
             from steps in Gen.ArrayOf(Gen.Elements(-3L, -2, -1, 1, 1, 2, 3, long.MaxValue, long.MinValue), count)
             from negative in Gen.Elements(false, true)
             from form in Gen.Elements("opset 1", "inputs", "no axes", "no steps")
             from known in Gen.Elements(false, true)
             select (dims, axes: form == "no axes" ? [.. Enumerable.Range(0, count)] : order[..count], starts, ends,
                 steps: form is "opset 1" or "no steps" ? [.. Enumerable.Repeat(1L, count)] : steps, negative, form, known)).ToArbitrary(),
            c =>
            {
                double[] x = Values(c.dims);
                (int[] y, double[] expected) = Naive.Slice(x, c.dims, c.starts, c.ends, c.axes, c.steps);
                long[] axes = [.. c.axes.Select(a => c.negative ? a - c.dims.Length : (long)a)];
                GraphWriter g = Data(c.known, c.dims, x);
                if (c.form == "opset 1")
                    g.Node("Slice", ["x"], "y", new("starts", Ints: c.starts), new("ends", Ints: c.ends), new("axes", Ints: axes));
                else
                {
                    g.Initializer("starts", [c.starts.Length], c.starts).Initializer("ends", [c.ends.Length], c.ends)
                        .Initializer("axes", [axes.Length], axes).Initializer("steps", [c.steps.Length], c.steps);
                    g.Node("Slice", c.form switch
                    {
                        "no axes" => ["x", "starts", "ends", "", "steps"],
                        "no steps" => ["x", "starts", "ends", "axes"],
                        _ => ["x", "starts", "ends", "axes", "steps"],
                    }, "y");
                }
                Assert.Equal(expected, Run(g, c.known, x, c.form == "opset 1" ? 1 : 13, ("y", y))[0]);
            });

    [Property(MaxTest = 200)]
    public Property Expand_matches_the_oracle() =>
        Prop.ForAll(
            (from rank in Gen.Choose(0, 4)
             from dims in Gen.ArrayOf(Gen.Elements(1, 1, 2, 3), rank)
             from picks in Gen.ArrayOf(Gen.Choose(0, 3), rank)
             from drop in Gen.Choose(0, rank)
             from lead in Gen.ArrayOf(Gen.Elements(1L, 2, 3), drop > 0 ? 0 : (rank + 1) % 3)
             from known in Gen.Elements(false, true)
             select (dims, shape: (long[])[.. lead, .. dims.Select((d, k) => d == 1 ? new long[] { 1, 2, 3, 4 }[picks[k]] : picks[k] % 2 == 0 ? d : 1).Skip(drop)],
                 known)).ToArbitrary(),
            c =>
            {
                double[] x = Values(c.dims);
                (int[] y, double[] expected) = Naive.Expand(x, c.dims, c.shape);
                GraphWriter g = Data(c.known, c.dims, x).Initializer("shape", [c.shape.Length], c.shape).Node("Expand", ["x", "shape"], "y");
                Assert.Equal(expected, Run(g, c.known, x, 13, ("y", y))[0]);
            });

    [Property(MaxTest = 200)]
    public Property Gather_matches_the_oracle() =>
        Prop.ForAll(
            (from rank in Gen.Choose(1, 4)
             from dims in Gen.ArrayOf(Gen.Choose(1, 4), rank)
             from axis in Gen.Choose(-rank, rank - 1)
             from indexRank in Gen.Choose(0, 2)
             from indexDims in Gen.ArrayOf(Gen.Choose(0, 3), indexRank)
             from picks in Gen.ArrayOf(Gen.Choose(0, 1000), (int)Naive.Count(indexDims))
             from known in Gen.Elements(false, true)
             let n = dims[axis < 0 ? axis + rank : axis]
             select (dims, axis, indexDims, indices: picks.Select(p => (long)(p % (2 * n) - n)).ToArray(), known)).ToArbitrary(),
            c =>
            {
                double[] x = Values(c.dims);
                int a = c.axis < 0 ? c.axis + c.dims.Length : c.axis;
                (int[] y, double[] expected) = Naive.Gather(x, c.dims, c.indices, c.indexDims, a);
                GraphWriter g = Data(c.known, c.dims, x).Initializer("i", L(c.indexDims), c.indices).Node("Gather", ["x", "i"], "y", new NodeAttribute("axis", c.axis));
                Assert.Equal(expected, Run(g, c.known, x, 13, ("y", y))[0]);
            });

    [Property(MaxTest = 200)]
    public Property Split_matches_the_oracle() =>
        Prop.ForAll(
            (from rank in Gen.Choose(1, 3)
             from dims in Gen.ArrayOf(Gen.Choose(1, 6), rank)
             from axis in Gen.Choose(-rank, rank - 1)
             from parts in Gen.Choose(1, 4)
             from form in Gen.Elements("attribute", "input", "equal", "num_outputs")
             let a = axis < 0 ? axis + rank : axis
             let n = form == "equal" ? parts * (dims[a] % 2 + 1) : dims[a]
             from sizes in form is "attribute" or "input" ? Gen.Piles(parts, n) : Gen.Constant(Split(n, parts, form))
             from unnamed in Gen.Choose(0, parts - 1) // an output but the first may be unnamed (0: all named)
             from known in Gen.Elements(false, true)
             where sizes.Length > 0
             select (dims: dims.Select((d, k) => k == a ? n : d).ToArray(), axis, sizes, form, unnamed: unnamed > 0 ? unnamed : -1, known)).ToArbitrary(),
            c =>
            {
                double[] x = Values(c.dims);
                int a = c.axis < 0 ? c.axis + c.dims.Length : c.axis, start = 0;
                var expected = new List<(int[] Dims, double[] Data)>();
                foreach (int size in c.sizes)
                {
                    expected.Add(Naive.Slice(x, c.dims, [start], [start + size], [a], [1]));
                    start += size;
                }
                string[] outputs = [.. c.sizes.Select((_, j) => j == c.unnamed ? "" : $"y{j}")];
                GraphWriter g = Data(c.known, c.dims, x);
                int opset = c.form switch { "attribute" => 11, "num_outputs" => 18, _ => 13 };
                var axisAttribute = new NodeAttribute("axis", c.axis);
                if (c.form == "input") g.Initializer("split", [c.sizes.Length], L(c.sizes));
                if (c.form == "attribute") g.Node("Split", ["x"], outputs, axisAttribute, new NodeAttribute("split", Ints: L(c.sizes)));
                else if (c.form == "num_outputs") g.Node("Split", ["x"], outputs, axisAttribute, new NodeAttribute("num_outputs", (long)c.sizes.Length));
                else g.Node("Split", c.form == "input" ? ["x", "split"] : ["x"], outputs, axisAttribute);
                int[] named = [.. Enumerable.Range(0, outputs.Length).Where(j => j != c.unnamed)];
                double[][] actual = Run(g, c.known, x, opset, [.. named.Select(j => (outputs[j], expected[j].Dims))]);
                for (int i = 0; i < named.Length; i++) Assert.Equal(expected[named[i]].Data, actual[i]);
            });

    /// <summary>Equal parts (the dim divides), or num_outputs' ceil-sized parts with a smaller last; none where num_outputs cannot split.</summary>
    private static int[] Split(int n, int parts, string form)
    {
        int each = form == "equal" ? n / parts : (n + parts - 1) / parts;
        return each * (parts - 1) > n ? [] : [.. Enumerable.Repeat(each, parts - 1), n - each * (parts - 1)];
    }

    [Property(MaxTest = 300)]
    public Property Reductions_match_the_oracle() =>
        Prop.ForAll(
            (from kind in Gen.Elements("ReduceSum", "ReduceMean", "ReduceMax")
             from rank in Gen.Choose(1, 4)
             from dims in Gen.ArrayOf(Gen.Choose(1, 5), rank)
             from axes in Gen.SubListOf(Enumerable.Range(0, rank).ToArray())
             from negative in Gen.Elements(false, true)
             from keep in Gen.Elements(-1L, 0, 1)
             from asInput in Gen.Elements(false, true)
             from omit in Gen.Elements(false, false, true)
             from noop in Gen.Elements(0L, 1L)
             from seed in Gen.Choose(0, 1000)
             select (kind, dims, axes: omit ? null : axes.ToArray(), negative, keep, asInput, noop: asInput ? noop : 0, seed)).ToArbitrary(),
            c =>
            {
                var random = new Random(c.seed);
                double[] x = [.. Enumerable.Range(0, (int)Naive.Count(c.dims)).Select(_ => (double)(float)(random.NextDouble() * 8 - 4))];
                bool identity = c.noop == 1 && (c.axes is null || c.axes.Length == 0);
                int[] reduced = c.axes is { Length: > 0 } ? c.axes : [.. Enumerable.Range(0, c.dims.Length)];
                (int[] y, double[] expected) = identity ? (c.dims, x) : Naive.Reduce(c.kind, x, c.dims, reduced, c.keep != 0);
                long[]? axes = c.axes?.Select(a => c.negative ? a - c.dims.Length : (long)a).ToArray();
                int opset = c.asInput ? (c.kind == "ReduceSum" ? 13 : 18) : (c.kind == "ReduceSum" ? 11 : 13);
                var attributes = new List<NodeAttribute>();
                if (c.keep >= 0) attributes.Add(new("keepdims", c.keep));
                if (c.asInput) attributes.Add(new("noop_with_empty_axes", c.noop));
                else if (axes is not null) attributes.Add(new("axes", Ints: axes));
                GraphWriter g = Data(known: false, c.dims, x);
                if (c.asInput && axes is not null) g.Initializer("axes", [axes.Length], axes);
                g.Node(c.kind, c.asInput && axes is not null ? ["x", "axes"] : ["x"], "y", [.. attributes]);
                double[] actual = Run(g, known: false, x, opset, ("y", y))[0];
                if (c.kind == "ReduceMax" || identity) Assert.Equal(expected, actual);
                else Tolerance.Close([.. expected.Select(v => (float)v)], [.. actual.Select(v => (float)v)], c.kind);
            });

    [Property(MaxTest = 200)]
    public Property Squeeze_and_Unsqueeze_change_only_the_dims() =>
        Prop.ForAll(
            (from rank in Gen.Choose(0, 4)
             from dims in Gen.ArrayOf(Gen.Elements(1, 1, 2, 3), rank)
             from unsqueeze in Gen.Elements(false, true)
             from added in Gen.Choose(1, 3)
             from positions in Gen.Shuffle(Enumerable.Range(0, rank + added).ToArray())
             from ones in Gen.SubListOf(Enumerable.Range(0, rank).Where(k => dims[k] == 1).ToArray())
             from omit in Gen.Elements(false, true)
             from negative in Gen.Elements(false, true)
             from opset in Gen.Elements(11, 13)
             from known in Gen.Elements(false, true)
             select (dims, unsqueeze, axes: unsqueeze ? positions[..added] : omit ? null : ones.ToArray(), negative, opset, known)).ToArbitrary(),
            c =>
            {
                double[] x = Values(c.dims);
                int rank = c.unsqueeze ? c.dims.Length + c.axes!.Length : c.dims.Length;
                int[] y = c.unsqueeze ? Unsqueezed(c.dims, c.axes!)
                    : [.. c.dims.Where((d, k) => c.axes is null || c.axes.Length == 0 ? d != 1 : !c.axes.Contains(k))];
                long[]? axes = c.axes?.Select(a => c.negative ? a - rank : (long)a).ToArray();
                GraphWriter g = Data(c.known, c.dims, x);
                string op = c.unsqueeze ? "Unsqueeze" : "Squeeze";
                if (axes is null) g.Node(op, ["x"], "y");
                else if (c.opset >= 13) g.Initializer("axes", [axes.Length], axes).Node(op, ["x", "axes"], "y");
                else g.Node(op, ["x"], "y", new NodeAttribute("axes", Ints: axes));
                Assert.Equal(x, Run(g, c.known, x, c.opset, ("y", y))[0]);
            });

    private static int[] Unsqueezed(int[] dims, int[] axes)
    {
        var y = new List<int>(dims);
        foreach (int a in axes.Order()) y.Insert(a, 1);
        return [.. y];
    }

    [Property(MaxTest = 100)]
    public Property Concat_of_int64_values_is_computed_while_planning() =>
        Prop.ForAll(
            (from rank in Gen.Choose(1, 3)
             from dims in Gen.ArrayOf(Gen.Choose(1, 3), rank)
             from axis in Gen.Choose(-rank, rank - 1)
             from along in Gen.ArrayOf(Gen.Choose(0, 3), 3)
             select (dims, axis, along)).ToArbitrary(),
            c =>
            {
                int a = c.axis < 0 ? c.axis + c.dims.Length : c.axis, offset = 0;
                var inputs = c.along.Select(n =>
                {
                    int[] d = [.. c.dims.Select((v, k) => k == a ? n : v)];
                    double[] data = [.. Values(d).Select(v => v + offset)];
                    offset += 100;
                    return (d, data);
                }).ToArray();
                (int[] y, double[] expected) = Naive.Concat(inputs, a);
                GraphWriter g = Data(known: true, [1], [0]);
                for (int i = 0; i < inputs.Length; i++) g.Initializer($"c{i}", L(inputs[i].d), [.. inputs[i].data.Select(v => (long)v)]);
                g.Node("Concat", ["c0", "c1", "c2"], "y", new NodeAttribute("axis", c.axis));
                Assert.Equal(expected, Run(g, known: true, [], 13, ("y", y))[0]);
            });

    [Property(MaxTest = 100)]
    public Property Shape_gives_the_dims_between_start_and_end() =>
        Prop.ForAll(
            (from rank in Gen.Choose(0, 4)
             from dims in Gen.ArrayOf(Gen.Choose(1, 5), rank)
             from start in Gen.Choose(-6, 6)
             from end in Gen.Choose(-6, 6)
             from form in Gen.Elements("opset 13", "start", "end", "both")
             select (dims, start, end, form)).ToArbitrary(),
            c =>
            {
                int rank = c.dims.Length;
                int from = c.form is "start" or "both" ? Math.Clamp(c.start < 0 ? c.start + rank : c.start, 0, rank) : 0;
                int to = c.form is "end" or "both" ? Math.Clamp(c.end < 0 ? c.end + rank : c.end, 0, rank) : rank;
                double[] expected = [.. c.dims.Skip(from).Take(Math.Max(to - from, 0)).Select(d => (double)d)];
                var attributes = new List<NodeAttribute>();
                if (c.form is "start" or "both") attributes.Add(new("start", (long)c.start));
                if (c.form is "end" or "both") attributes.Add(new("end", (long)c.end));
                GraphWriter g = new GraphWriter().Input("x", L(c.dims)).Node("Shape", ["x"], "s", [.. attributes]).Node("Cast", ["s"], "y", new NodeAttribute("to", 1L));
                double[] x = Values(c.dims);
                Assert.Equal(expected, Run(g, known: false, x, c.form == "opset 13" ? 13 : 15, ("y", [expected.Length]))[0]);
            });
}
