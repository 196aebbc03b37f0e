using Kernels.Onnx.Export;

namespace Kernels.Onnx.Tests.Ops;

/// <summary>
/// The shape ops in the graphs exporters write: shapes computed from the batch (Shape, Gather, Unsqueeze, Concat into
/// Reshape) planned again at each batch size, casts of shapes and constants, and hostile shape subgraphs refused at
/// load naming the node.
/// </summary>
public class ShapeGraphTests
{
    private static readonly NodeAttribute ToFloat = new("to", 1L);

    /// <summary>n1 = Unsqueeze(Gather(Shape(x), 0)): the batch as a one-element int64 vector, as torch.onnx exports x.size(0).</summary>
    private static GraphWriter Batch(GraphWriter g, int opset)
    {
        g.Initializer("zero", [], [0L]).Node("Shape", ["x"], "s").Node("Gather", ["s", "zero"], "n", new NodeAttribute("axis", 0L));
        return opset >= 13 ? g.Initializer("axis0", [1], [0L]).Node("Unsqueeze", ["n", "axis0"], "n1")
            : g.Node("Unsqueeze", ["n"], "n1", new NodeAttribute("axes", Ints: [0L]));
    }

    private static float[] Ramp(long n) => [.. Enumerable.Range(0, (int)n).Select(i => i * 0.5f - 3)];

    [Theory]
    [InlineData(11)]
    [InlineData(13)]
    public void A_view_of_x_size_0_by_minus_1_runs_at_every_batch(int opset)
    {
        GraphWriter g = Batch(new GraphWriter().Input("x", -1, 3, 2, 2), opset)
            .Initializer("rest", [1], [-1L]).Node("Concat", ["n1", "rest"], "shape", new NodeAttribute("axis", 0L))
            .Node("Reshape", ["x", "shape"], "y").Output("y", -1, 12);
        OnnxModel model = OnnxModel.Load(g.ToBytes(opset), "view.onnx");
        Assert.Equal([-1, 12], model.OutputMetadata["y"].Dimensions);
        foreach (int batch in new[] { 1, 2, 5 })
        {
            float[] x = Ramp(12 * batch), y = new float[model.OutputLength(batch)];
            Assert.Equal(12 * batch, y.Length);
            model.Run(x, y);
            Assert.Equal(x, y);
        }
    }

    /// <summary>ShuffleNet's channel shuffle as torchvision exports it: (N, g, C/g, H, W), swap the two, back to (N, C, H, W).</summary>
    [Fact]
    public void A_channel_shuffle_with_computed_shapes_matches_the_oracle_at_every_batch()
    {
        const int groups = 2, c = 6, h = 2, w = 3;
        GraphWriter g = Batch(new GraphWriter().Input("x", -1, c, h, w), 13)
            .Initializer("split", [4], [groups, c / groups, h, w]).Node("Concat", ["n1", "split"], "shape5", new NodeAttribute("axis", 0L))
            .Node("Reshape", ["x", "shape5"], "r").Node("Transpose", ["r"], "t", new NodeAttribute("perm", Ints: [0, 2, 1, 3, 4]))
            .Initializer("merged", [3], [-1L, h, w]).Node("Concat", ["n1", "merged"], "shape4", new NodeAttribute("axis", 0L))
            .Node("Reshape", ["t", "shape4"], "y").Output("y", -1, c, h, w);
        OnnxModel model = OnnxModel.Load(g.ToBytes(13), "shuffle.onnx");
        foreach (int batch in new[] { 1, 2, 5 })
        {
            float[] x = Ramp(batch * c * h * w), y = new float[model.OutputLength(batch)];
            model.Run(x, y);
            var expected = new float[x.Length];
            int plane = h * w;
            for (int n = 0; n < batch; n++)
                for (int gi = 0; gi < groups; gi++)
                    for (int j = 0; j < c / groups; j++)
                        for (int p = 0; p < plane; p++)
                            expected[((n * c) + j * groups + gi) * plane + p] = x[((n * c) + gi * (c / groups) + j) * plane + p];
            Assert.Equal(expected, y);
        }
    }

    [Fact]
    public void Casts_of_floats_are_views_and_casts_of_constants_are_computed_at_load()
    {
        byte[] views = new GraphWriter().Input("x", 2, 3).Node("Cast", ["x"], "a", ToFloat).Node("Cast", ["a"], "y", new NodeAttribute("to", 11L))
            .Output("y", 2, 3).ToBytes();
        float[] x = Ramp(6), y = new float[6];
        OnnxModel.Load(views, "cast.onnx").Run(x, y);
        Assert.Equal(x, y);

        float[] values = [1.5f, -2.7f, 0f, float.NaN, -0.5f];
        Assert.Equal([1f, -2f, 0f, 0f, 0f], CastOfConstant(values, 7));
        Assert.Equal([1f, -2f, 0f, 0f, 0f], CastOfConstant(values, 6));
        Assert.Equal([1f, 1f, 0f, 1f, 1f], CastOfConstant(values, 9));

        // Opset 1 names the type; the shape of x cast to int32 and back to float.
        byte[] named = new GraphWriter().Input("x", 2, 3).Node("Shape", ["x"], "s").Node("Cast", ["s"], "i", new NodeAttribute("to", Text: "INT32"))
            .Node("Cast", ["i"], "y", new NodeAttribute("to", Text: "FLOAT")).Output("y", 2).ToBytes(opset: 1);
        float[] dims = new float[2];
        OnnxModel.Load(named, "cast.onnx").Run(Ramp(6), dims);
        Assert.Equal([2f, 3f], dims);
    }

    private static float[] CastOfConstant(float[] values, long to)
    {
        byte[] bytes = new GraphWriter().Input("u", 1).Node("Identity", ["u"], "v").Output("v", 1).Initializer("c", [values.Length], values)
            .Node("Cast", ["c"], "i", new NodeAttribute("to", to)).Node("Cast", ["i"], "y", ToFloat).Output("y", values.Length).ToBytes();
        var y = new float[values.Length];
        OnnxModel.Load(bytes, "cast.onnx").Run(["u"], [new float[1]], ["y"], [y]);
        return y;
    }

    [Theory]
    [InlineData(7L, "a float computed at run time cast to int64 is not supported")]
    [InlineData(6L, "a float computed at run time cast to int32 is not supported")]
    [InlineData(10L, "attribute to = 10")]
    public void Casts_this_runtime_cannot_run_are_refused_naming_the_node(long to, string words)
    {
        byte[] bytes = new GraphWriter().Input("x", -1, 3).Node("Cast", ["x"], "y", new NodeAttribute("to", to)).Output("y", -1, 3).ToBytes();
        var e = Assert.Throws<NotSupportedException>(() => OnnxModel.Load(bytes, "cast.onnx"));
        Assert.StartsWith("cast.onnx: Cast node 'Cast_0'", e.Message);
        Assert.Contains(words, e.Message);
    }

    [Fact]
    public void ConstantOfShape_fills_the_shape_computed_from_the_batch()
    {
        (NodeAttribute[] Value, float Expected)[] cases =
        [
            ([], 0f),
            ([new NodeAttribute("value", Tensor: new OnnxTensor([1], Floats: [2.5f]))], 2.5f),
        ];
        foreach ((NodeAttribute[] value, float expected) in cases)
        {
            byte[] bytes = new GraphWriter().Input("x", -1, 2, 3).Node("Shape", ["x"], "s").Node("ConstantOfShape", ["s"], "y", value)
                .Output("y", -1, 2, 3).ToBytes();
            OnnxModel model = OnnxModel.Load(bytes, "fill.onnx");
            foreach (int batch in new[] { 1, 3 })
            {
                float[] y = new float[model.OutputLength(batch)];
                Array.Fill(y, float.NaN);
                model.Run(new float[6 * batch], y);
                Assert.Equal(Enumerable.Repeat(expected, 6 * batch), y);
            }
        }
        byte[] ints = new GraphWriter().Input("x", 2, 2).Node("Shape", ["x"], "s")
            .Node("ConstantOfShape", ["s"], "i", new NodeAttribute("value", Tensor: new OnnxTensor([1], Int64s: [7L]))).Node("Cast", ["i"], "y", ToFloat)
            .Output("y", 2, 2).ToBytes();
        float[] sevens = new float[4];
        OnnxModel.Load(ints, "fill.onnx").Run(new float[4], sevens);
        Assert.Equal([7f, 7f, 7f, 7f], sevens);
    }

    /// <summary>Hostile shape subgraphs and attributes: each refused at load, naming the node, before any run.</summary>
    public static TheoryData<string, string, byte[]> Hostile()
    {
        var data = new TheoryData<string, string, byte[]>();
        void Add(string what, string op, GraphWriter g, int opset = 13) => data.Add(what, op, g.Output("y", -1).ToBytes(opset));
        GraphWriter X() => new GraphWriter().Input("x", -1, 2, 3);
        GraphWriter Computed(long[] rest) => Batch(X(), 13).Initializer("rest", [rest.Length], rest).Node("Concat", ["n1", "rest"], "shape", new NodeAttribute("axis", 0L));

        Add("a computed shape that does not match", "Reshape", Computed([7]).Node("Reshape", ["x", "shape"], "y"));
        Add("a computed negative dim", "Reshape", Computed([-3]).Node("Reshape", ["x", "shape"], "y"));
        Add("a computed negative expand", "Expand", Computed([2, -2]).Node("Expand", ["x", "shape"], "y"));
        Add("a computed huge expand", "Expand", Computed([2, 1L << 40]).Node("Expand", ["x", "shape"], "y"));
        Add("a huge expand past the cap", "Expand", Computed([1 << 15, 1 << 14, 2, 3]).Node("Expand", ["x", "shape"], "y"));
        Add("a huge int64 expand", "Expand", X().Initializer("c", [1], [5L]).Initializer("big", [2], [1L << 16, 1L << 16])
            .Node("Expand", ["c", "big"], "e").Node("Cast", ["e"], "y", ToFloat));
        Add("a negative ConstantOfShape", "ConstantOfShape", X().Initializer("shape", [2], [2L, -1]).Node("ConstantOfShape", ["shape"], "y"));
        Add("a huge ConstantOfShape", "ConstantOfShape", X().Initializer("shape", [2], [1L << 20, 1L << 20]).Node("ConstantOfShape", ["shape"], "y"));
        Add("a float slice step of 0", "Slice", X().Initializer("b", [1], [0L]).Initializer("e", [1], [2L]).Initializer("a", [1], [1L])
            .Initializer("st", [1], [0L]).Node("Slice", ["x", "b", "e", "a", "st"], "y"));
        Add("an int64 slice step of 0", "Slice", X().Node("Shape", ["x"], "s").Initializer("b", [1], [0L]).Initializer("e", [1], [2L])
            .Initializer("a", [1], [0L]).Initializer("st", [1], [0L]).Node("Slice", ["s", "b", "e", "a", "st"], "k").Node("Cast", ["k"], "y", ToFloat));
        foreach (long[] perm in new long[][] { [0, 0, 1], [1, 0], [0, 1, 3], [0, 1, -1], [0, 1, 2, 3] })
            Add($"perm {string.Join(",", perm)}", "Transpose", X().Node("Transpose", ["x"], "y", new NodeAttribute("perm", Ints: perm)));
        Add("split sizes that do not sum", "Split", X().Initializer("sp", [2], [1L, 1]).Node("Split", ["x", "sp"], ["y", "z"], new NodeAttribute("axis", 2L)));
        Add("split sizes that are too many", "Split", X().Initializer("sp", [3], [1L, 1, 1]).Node("Split", ["x", "sp"], ["y", "z"], new NodeAttribute("axis", 2L)));
        Add("a negative split size", "Split", X().Node("Split", ["x"], ["y", "z"], new NodeAttribute("axis", 2L), new NodeAttribute("split", Ints: [4, -1])), opset: 11);
        Add("an equal split that does not divide", "Split", X().Node("Split", ["x"], ["y", "z"], new NodeAttribute("axis", 2L)));
        Add("num_outputs that cannot split", "Split", X().Node("Split", ["x"], ["y", "z", "w", "v"], new NodeAttribute("axis", 1L), new NodeAttribute("num_outputs", 4L)), opset: 18);
        Add("a gather index past the end", "Gather", X().Initializer("i", [2], [0L, 3]).Node("Gather", ["x", "i"], "y", new NodeAttribute("axis", 2L)));
        Add("a gather index before the start", "Gather", X().Initializer("i", [1], [-4L]).Node("Gather", ["x", "i"], "y", new NodeAttribute("axis", 2L)));
        Add("a gather of a shape past its end", "Gather", X().Node("Shape", ["x"], "s").Initializer("i", [], [3L]).Node("Gather", ["s", "i"], "k")
            .Node("Cast", ["k"], "y", ToFloat));
        Add("an unsqueeze axis twice", "Unsqueeze", X().Initializer("a", [2], [1L, -4]).Node("Unsqueeze", ["x", "a"], "y"));
        Add("a squeeze of a dim of 2", "Squeeze", X().Initializer("a", [1], [1L]).Node("Squeeze", ["x", "a"], "y"));
        Add("a reduce axis outside the rank", "ReduceSum", X().Initializer("a", [1], [3L]).Node("ReduceSum", ["x", "a"], "y"));
        return data;
    }

    [Theory, MemberData(nameof(Hostile))]
    public void Hostile_shape_graphs_are_refused_at_load_naming_the_node(string what, string op, byte[] bytes)
    {
        var e = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(bytes, "hostile.onnx"));
        Assert.True(e.Message.StartsWith($"hostile.onnx: {op} node '{op}_"), $"{what}: {e.Message}");
    }

    /// <summary>A graph valid at batch 1 and malformed at batch 2 (split sizes fixed on the batch axis): refused when that batch is planned, naming the node, the output untouched.</summary>
    [Fact]
    public void A_shape_graph_malformed_only_at_another_batch_is_refused_when_that_batch_is_planned()
    {
        byte[] bytes = new GraphWriter().Input("x", -1, 3).Initializer("sp", [1], [1L]).Node("Split", ["x", "sp"], ["y"], new NodeAttribute("axis", 0L))
            .Output("y", -1, 3).ToBytes();
        OnnxModel model = OnnxModel.Load(bytes, "batch.onnx");
        float[] y = new float[3];
        model.Run(Ramp(3), y);
        Assert.Equal(Ramp(3), y);
        float[] two = [.. Enumerable.Repeat(float.NaN, 6)];
        var e = Assert.Throws<InvalidDataException>(() => model.Run(Ramp(6), two));
        Assert.StartsWith("batch.onnx: Split node 'Split_0'", e.Message);
        Assert.All(two, v => Assert.True(float.IsNaN(v)));
    }

    /// <summary>An attribute the node's opset does not define is refused, naming the node and the attribute.</summary>
    [Theory]
    [InlineData("Unsqueeze", 13, "axes")]
    [InlineData("Squeeze", 13, "axes")]
    [InlineData("Split", 13, "split")]
    [InlineData("Split", 17, "num_outputs")]
    [InlineData("Shape", 14, "start")]
    [InlineData("ReduceMean", 17, "noop_with_empty_axes")]
    [InlineData("ReduceMean", 18, "axes")]
    [InlineData("ReduceSum", 13, "axes")]
    [InlineData("Slice", 10, "starts")]
    [InlineData("Cast", 18, "saturate")]
    public void Attributes_from_another_opset_are_refused(string op, int opset, string attribute)
    {
        byte[] bytes = new GraphWriter().Input("x", 1, 2).Node(op, ["x"], "y", new NodeAttribute(attribute, Ints: [0])).Output("y", 1, 2).ToBytes(opset);
        var e = Assert.Throws<NotSupportedException>(() => OnnxModel.Load(bytes, "opset.onnx"));
        Assert.StartsWith($"opset.onnx: {op} node '{op}_0'", e.Message);
        Assert.Contains($"attribute {attribute}", e.Message);
    }

    /// <summary>Every shape op on one graph (a batch-following one), used for threads and allocation.</summary>
    internal static byte[] Everything() => new GraphWriter().Input("x", -1, 4, 6, 6)
        .Node("Transpose", ["x"], "t", new NodeAttribute("perm", Ints: [0, 2, 3, 1]))
        .Initializer("b", [1], [1L]).Initializer("e", [1], [-1L]).Initializer("a", [1], [1L]).Initializer("st", [1], [2L])
        .Node("Slice", ["t", "b", "e", "a", "st"], "s")
        .Node("ReduceMean", ["s"], "m", new NodeAttribute("axes", Ints: [1, 2]), new NodeAttribute("keepdims", 0L))
        .Initializer("i", [2], [3L, 0]).Node("Gather", ["m", "i"], "g", new NodeAttribute("axis", 1L))
        .Initializer("ax", [1], [2L]).Node("Unsqueeze", ["g", "ax"], "u")
        .Initializer("shape", [3], [1L, 2, 3]).Node("Expand", ["u", "shape"], "x3")
        .Initializer("sp", [2], [1L, 2]).Node("Split", ["x3", "sp"], ["p", "q"], new NodeAttribute("axis", 2L))
        .Node("ReduceMax", ["q"], "qm", new NodeAttribute("axes", Ints: [2]))
        .Node("Concat", ["p", "qm", "q"], "c", new NodeAttribute("axis", 2L))
        .Node("ReduceSum", ["c", "ax"], "r", new NodeAttribute("keepdims", 1L))
        .Node("Squeeze", ["r", "ax"], "y").Output("y", -1, 2).ToBytes(13);

    [Fact]
    public void Results_are_bitwise_identical_at_every_thread_count()
    {
        float[] x = [.. Enumerable.Range(0, 3 * 144).Select(i => MathF.Sin(i * 0.37f) * 3)];
        float[] one = new float[6], all = new float[6];
        OnnxModel.Load(Everything(), "all.onnx").Run(x, one);
        OnnxModel.Load(Everything(), "all.onnx", new OnnxModelOptions { MaxDegreeOfParallelism = -1 }).Run(x, all);
        Assert.Equal(one, all);
        Assert.All(one, v => Assert.True(float.IsFinite(v) && v != 0));
    }
}

[Collection(nameof(Serial))]
public class ShapeOpsAllocationTests
{
    [Fact]
    public void A_run_of_the_shape_ops_allocates_nothing_once_planned()
    {
        OnnxModel model = OnnxModel.Load(ShapeGraphTests.Everything(), "all.onnx");
        float[] x = new float[2 * 144], y = new float[model.OutputLength(2)];
        for (int i = 0; i < 40; i++) model.Run(x, y);
        Thread.Sleep(250);
        for (int i = 0; i < 40; i++) model.Run(x, y);
        long before = GC.GetAllocatedBytesForCurrentThread();
        model.Run(x, y);
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }
}
