using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Kernels.Onnx.Export;
using Kernels.Onnx.Protobuf;

namespace Kernels.Onnx.Tests;

/// <summary>
/// The defect classes a hostile review found in the runtime, each as generators over the class: sizes near the integer
/// limits are refused before they are allocated, every input keeps its own dims, plans of other dims never disturb
/// each other, values have types, each opset's attributes are its own, valid-but-unsupported is NotSupported.
/// </summary>
public class HardeningTests
{
    private const long Cap = 1 << 20;
    private static readonly OnnxModelOptions Bounded = new() { MaxActivationFloats = Cap };

    /// <summary>Sizes that wrap or truncate in int or long arithmetic when added or multiplied.</summary>
    private static readonly long[] NearLimits = [0, 1, 2, 3, 1 << 15, (1 << 29) - 1, 1 << 29, int.MaxValue - 1, int.MaxValue, 1L << 32, 1L << 62, long.MaxValue];

    /// <summary>
    /// Loads (and runs once, if it loads) with the bounded cap; only the documented refusals may escape, they name the
    /// file first, and the whole attempt allocates at most a few times the cap (a refused one, far less).
    /// </summary>
    private static string LoadsWithinTheCap(byte[] bytes, string source, int inputLength = -1)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        string outcome;
        try
        {
            OnnxModel model = OnnxModel.Load(bytes, source, Bounded);
            long loaded = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(loaded < 16 * Cap, $"the load allocated {loaded} bytes");
            if (inputLength >= 0) model.Run(new float[inputLength], new float[model.OutputLength(1)]);
            outcome = "loaded";
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException)
        {
            Assert.StartsWith(source + ": ", e.Message);
            outcome = e.GetType().Name;
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 16 * Cap + (outcome == "loaded" ? 8 * Cap : 0), $"{outcome}: {allocated} bytes allocated");
        return outcome;
    }

    [Property(MaxTest = 300)]
    public Property Pool_windows_near_the_integer_limits_load_within_the_cap_or_are_refused() =>
        Prop.ForAll(
            (from op in Gen.Elements("AveragePool", "MaxPool")
             from k in Gen.Elements(1L, 2, 3, 1 << 15, 1 << 29, int.MaxValue, 1L << 32)
             from pads in Gen.ArrayOf(Gen.Elements(NearLimits), 4)
             from stride in Gen.Elements(1L, 2, int.MaxValue)
             from h in Gen.Elements(1L, 5, 1 << 15)
             from ceil in Gen.Elements(0L, 1)
             from include in Gen.Elements(0L, 1)
             select (op, k, pads, stride, h, ceil, include)).ToArbitrary(),
            c =>
            {
                NodeAttribute[] attributes = [new("kernel_shape", Ints: [c.k, c.k]), new("pads", Ints: c.pads), new("strides", Ints: [c.stride, c.stride]),
                    new("ceil_mode", c.ceil), .. c.op == "AveragePool" ? [new NodeAttribute("count_include_pad", c.include)] : Array.Empty<NodeAttribute>()];
                byte[] bytes = new GraphWriter().Input("x", 1, 1, c.h, 1).Node(c.op, ["x"], "y", attributes).Output("y", 1, 1, 1, 1).ToBytes();
                LoadsWithinTheCap(bytes, "pool.onnx", (int)c.h);
            });

    [Property(MaxTest = 200)]
    public Property Conv_windows_near_the_integer_limits_load_within_the_cap_or_are_refused() =>
        Prop.ForAll(
            (from k in Gen.Elements(1L, 2, 3)
             from pads in Gen.ArrayOf(Gen.Elements(NearLimits), 4)
             from stride in Gen.Elements(1L, 2, int.MaxValue, 1L << 32)
             from h in Gen.Elements(1L, 5, 1 << 15)
             from zero in Gen.Elements(false, false, false, true)
             from auto in Gen.Elements("NOTSET", "SAME_UPPER", "VALID")
             select (k, pads, stride, h, zero, auto)).ToArbitrary(),
            c =>
            {
                long filters = c.zero ? 0 : 2;
                byte[] bytes = new GraphWriter()
                    .Input("x", 1, 1, c.h, 3)
                    .Initializer("w", [filters, 1, c.k, c.k], new float[filters * c.k * c.k])
                    .Node("Conv", ["x", "w"], "y", new("pads", Ints: c.pads), new("strides", Ints: [c.stride, c.stride]), new("auto_pad", Text: c.auto))
                    .Output("y", 1, filters, 1, 1).ToBytes();
                LoadsWithinTheCap(bytes, "conv.onnx", (int)c.h * 3);
            });

    [Theory]
    [InlineData(new long[] { 1L << 32, 1L << 32, 11936 })] // 2^64 + 11936 floats per sample
    [InlineData(new long[] { 1L << 62, 4, 1 })]
    [InlineData(new long[] { int.MaxValue, int.MaxValue, int.MaxValue })]
    public void Element_counts_that_pass_the_cap_in_64_bits_are_refused(long[] dims)
    {
        byte[] bytes = new GraphWriter().Input("x", [-1, .. dims]).Node("Relu", ["x"], "y").Output("y", [-1, .. dims]).ToBytes();
        var ex = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(bytes, "huge.onnx"));
        Assert.StartsWith("huge.onnx: input 'x'", ex.Message);
    }

    [Fact]
    public void A_bound_constant_whose_dims_wrap_in_64_bits_is_refused_as_an_argument()
    {
        byte[] bytes = new GraphWriter().Input("x", -1, 4).Input("b", 4).Node("Add", ["x", "b"], "y").Output("y", -1, 4).ToBytes();
        int big = 1 << 30; // 2^120 elements: wraps to 0 in a 64-bit product
        var options = new OnnxModelOptions { Constants = new Dictionary<string, OnnxTensor> { ["b"] = new([big, big, big, big], Floats: []) } };
        var ex = Assert.Throws<ArgumentException>(() => OnnxModel.Load(bytes, "bound.onnx", options));
        Assert.Contains("options.Constants['b']", ex.Message);
        var nullDims = new OnnxModelOptions { Constants = new Dictionary<string, OnnxTensor> { ["b"] = new(null!, Floats: [1f, 2f, 3f, 4f]) } };
        Assert.Contains("options.Constants['b'] has no Dims", Assert.Throws<ArgumentException>(() => OnnxModel.Load(bytes, "bound.onnx", nullDims)).Message);
    }

    [Property(MaxTest = 100)]
    public Property Pads_that_pass_int_are_refused_not_truncated() =>
        Prop.ForAll(Gen.ArrayOf(Gen.Elements(NearLimits), 8).ToArbitrary(), pads =>
        {
            byte[] bytes = new GraphWriter().Input("x", -1, 1, 2, 2).Initializer("pads", [8], pads).Node("Pad", ["x", "pads"], "y")
                .Output("y", -1, 1, 2, 2).ToBytes(opset: 13);
            string outcome = LoadsWithinTheCap(bytes, "pad.onnx", 4);
            bool fits = pads.All(p => p <= int.MaxValue) && Enumerable.Range(0, 4).All(i => (i < 2 ? 1 : 2) + pads[i] + pads[i + 4] <= int.MaxValue)
                && (1.0 + pads[0] + pads[4]) * (1.0 + pads[1] + pads[5]) * (2.0 + pads[2] + pads[6]) * (2.0 + pads[3] + pads[7]) <= Cap;
            Assert.True(fits == (outcome == "loaded"), $"pads {string.Join(",", pads)}: {outcome}");
        });

    /// <summary>
    /// The bound a refused load keeps to: its peak resident memory stays within 64 MiB of the peak of loading a small
    /// model (lenet5) in the same kind of child process. The files are the review's: a 143-byte AveragePool whose
    /// divisor table was 2-8.6 GB, and windows whose outputs count 2^58 elements.
    /// </summary>
    [Fact]
    public void Refused_loads_stay_within_a_resident_memory_bound()
    {
        string folder = Directory.CreateTempSubdirectory("kernels-onnx-").FullName;
        try
        {
            (string Name, byte[] Bytes)[] hostile =
            [
                ("pads-at-kernel", Pool(1, 536_870_911, "AveragePool")),
                ("pads-below-kernel", Pool(1 << 29, (1 << 29) - 1, "AveragePool")),
                ("max-pads-below-kernel", Pool(1 << 29, (1 << 29) - 1, "MaxPool")),
            ];
            (string baseline, long basePeak) = ChildLoad.Run(Fixture.Named("lenet5").ModelPath, 1L << 28);
            Assert.Equal("loaded", baseline);
            foreach ((string name, byte[] bytes) in hostile)
            {
                string path = Path.Combine(folder, name + ".onnx");
                File.WriteAllBytes(path, bytes);
                (string outcome, long peak) = ChildLoad.Run(path, 1L << 28);
                Assert.StartsWith("refused", outcome);
                Assert.True(peak < basePeak + 64 * 1024, $"{name} ({bytes.Length} bytes): peak {peak} kB against {basePeak} kB loading lenet5");
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        static byte[] Pool(long kernel, long pad, string op) => new GraphWriter(producer: "")
            .Input("x", 1, 1, 1, 1)
            .Node(op, ["x"], "y", new("kernel_shape", Ints: [kernel, kernel]), new("pads", Ints: [pad, pad, pad, pad]))
            .Output("y", 1, 1, 1, 1).ToBytes();
    }

    [Fact]
    public void At_most_MaxPlans_plans_are_kept_whatever_batch_sizes_run()
    {
        Fixture f = Fixture.Named("lenet5");
        OnnxModel model = OnnxModel.Load(f.ModelPath);
        int per = (int)model.InputLength(1);
        float[] first = new float[model.OutputLength(1)];
        model.Run(f.Input.AsSpan(0, per), first);
        long retained = GC.GetTotalMemory(forceFullCollection: true);
        for (int batch = 1; batch <= 64; batch++)
        {
            model.Run(new float[per * batch], new float[model.OutputLength(batch)]);
            Assert.True(model.PlanCount <= OnnxModel.MaxPlans, $"after batch {batch}: {model.PlanCount} plans");
        }
        long grown = GC.GetTotalMemory(forceFullCollection: true) - retained;
        Assert.True(grown < OnnxModel.MaxPlans * model.PlannedBytes(64) + (4 << 20), $"{grown} bytes retained after batch sizes 1..64");
        float[] again = new float[first.Length];
        model.Run(f.Input.AsSpan(0, per), again);
        Assert.Equal(first, again);
    }

    [Property(MaxTest = 60)]
    public Property Each_input_keeps_its_own_leading_dimension() =>
        Prop.ForAll(
            (from a in Gen.Choose(1, 6)
             from n in Gen.Choose(1, 6)
             from k in Gen.Choose(1, 5)
             from symbolicA in Gen.Elements(false, true)
             from symbolicB in Gen.Elements(false, true)
             from seed in Gen.Choose(0, 1000)
             select (a, n, k, symbolicA, symbolicB, seed)).ToArbitrary(),
            c =>
            {
                // Y (a, n) = A (a, k) B^T, B (n, k): the review's Gemm of inputs (4,3) and (5,3).
                byte[] bytes = new GraphWriter()
                    .Input("A", [c.symbolicA ? "P" : null, null], c.a, c.k)
                    .Input("B", [c.symbolicB ? "Q" : null, null], c.n, c.k)
                    .Node("Gemm", ["A", "B"], "Y", new NodeAttribute("transB", 1L))
                    .Output("Y", c.a, c.n).ToBytes();
                OnnxModel model = OnnxModel.Load(bytes, "two-inputs.onnx");
                Assert.Equal(c.symbolicA ? -1 : c.a, model.InputMetadata["A"].Dimensions[0]);
                Assert.Equal(c.symbolicB ? -1 : c.n, model.InputMetadata["B"].Dimensions[0]);
                var random = new Random(c.seed);
                float[] a = [.. Enumerable.Range(0, c.a * c.k).Select(_ => (float)random.NextDouble() - 0.5f)];
                float[] b = [.. Enumerable.Range(0, c.n * c.k).Select(_ => (float)random.NextDouble() - 0.5f)];
                float[] y = new float[c.a * c.n];
                model.Run(["B", "A"], [b, a], ["Y"], [y]);
                for (int i = 0; i < c.a; i++)
                    for (int j = 0; j < c.n; j++)
                    {
                        double expected = 0, bound = 0;
                        for (int t = 0; t < c.k; t++) (expected, bound) = (expected + (double)a[i * c.k + t] * b[j * c.k + t], bound + Math.Abs((double)a[i * c.k + t] * b[j * c.k + t]));
                        Assert.True(Math.Abs(y[i * c.n + j] - expected) <= (c.k + 2) * 6e-8 * bound + 1e-30, $"Y[{i},{j}] = {y[i * c.n + j]}, expected {expected}");
                    }
            });

    [Fact]
    public void An_image_and_a_per_channel_input_run_together_and_a_shared_symbol_must_agree()
    {
        byte[] bytes = new GraphWriter().Input("x", -1, 3, 2, 2).Input("s", 1, 3, 1, 1).Node("Add", ["x", "s"], "y").Output("y", -1, 3, 2, 2).ToBytes();
        OnnxModel model = OnnxModel.Load(bytes, "image-and-scale.onnx");
        float[] x = [.. Enumerable.Range(0, 2 * 12).Select(i => (float)i)], s = [100, 200, 300], y = new float[24];
        model.Run(["x", "s"], [x, s], ["y"], [y]);
        for (int i = 0; i < 24; i++) Assert.Equal(x[i] + s[i / 4 % 3], y[i]);
        Assert.Equal("inputs", Assert.Throws<ArgumentException>(() => model.Run(["x", "s"], [x, new float[6]], ["y"], [y])).ParamName);

        byte[] shared = new GraphWriter().Input("a", -1, 2).Input("b", -1, 2).Node("Add", ["a", "b"], "y").Output("y", -1, 2).ToBytes();
        OnnxModel both = OnnxModel.Load(shared, "shared.onnx");
        var ex = Assert.Throws<ArgumentException>(() => both.Run(["a", "b"], [new float[4], new float[6]], ["y"], [new float[4]]));
        Assert.Contains("gives N = 3 but an earlier input gives 2", ex.Message);
    }

    /// <summary>(N, 16) viewed as one (4N x 4) plane, then a window whose pads or divisors depend on the plane's height.</summary>
    private static byte[] PlaneModel(bool conv) => (conv
            ? new GraphWriter().Input("x", -1, 16).Initializer("shape", [4], [1L, 1, -1, 4]).Initializer("w", [1, 1, 3, 3], [1f, 2, 3, 4, 5, 6, 7, 8, 9])
                .Node("Reshape", ["x", "shape"], "plane").Node("Conv", ["plane", "w"], "y", new("strides", Ints: [3, 3]), new("auto_pad", Text: "SAME_UPPER"))
            : new GraphWriter().Input("x", -1, 16).Initializer("shape", [4], [1L, 1, -1, 4])
                .Node("Reshape", ["x", "shape"], "plane")
                .Node("AveragePool", ["plane"], "y", new("kernel_shape", Ints: [3, 3]), new("strides", Ints: [2, 2]), new("pads", Ints: [1, 1, 1, 1])))
        .Output("y", 1, 1, -1, -1).ToBytes();

    /// <summary>The oracle of <see cref="PlaneModel"/>, in double: SAME_UPPER conv (stride 3) or the count-exclude-pad average.</summary>
    private static double[] PlaneOracle(bool conv, float[] x, int n)
    {
        int h = 4 * n, w = 4, k = 3, stride = conv ? 3 : 2;
        (int top, int left) = conv ? (((h + 2) / 3 - 1) * 3 + 3 - h) / 2 is var t && t >= 0 ? (t, (((w + 2) / 3 - 1) * 3 + 3 - w) / 2) : (0, 0) : (1, 1);
        int outH = conv ? (h + 2) / 3 : (h + 2 - k) / 2 + 1, outW = conv ? (w + 2) / 3 : (w + 2 - k) / 2 + 1;
        var y = new double[outH * outW];
        for (int i = 0; i < outH; i++)
            for (int j = 0; j < outW; j++)
            {
                double sum = 0;
                int count = 0;
                for (int r = 0; r < k; r++)
                    for (int s = 0; s < k; s++)
                    {
                        int row = i * stride - top + r, col = j * stride - left + s;
                        if (row < 0 || row >= h || col < 0 || col >= w) continue;
                        sum += x[row * w + col] * (conv ? r * 3 + s + 1 : 1);
                        count++;
                    }
                y[i * outW + j] = conv ? sum : sum / count;
            }
        return y;
    }

    [Property(MaxTest = 40)]
    public Property Plans_of_other_dims_never_change_a_plan_made_before() =>
        Prop.ForAll(
            (from conv in Gen.Elements(false, true)
             from calls in Gen.ListOf(Gen.Zip(Gen.Elements("run", "length", "threads"), Gen.Choose(1, 5)))
             select (conv, calls: calls.ToArray())).ToArbitrary(),
            c =>
            {
                OnnxModel model = OnnxModel.Load(PlaneModel(c.conv), "plane.onnx");
                foreach ((string call, int n) in c.calls.Prepend(("run", 1)))
                {
                    if (call == "length")
                    {
                        Assert.Equal(PlaneOracle(c.conv, new float[16 * n], n).Length, model.OutputLength(n));
                        continue;
                    }
                    int threads = call == "threads" ? 3 : 1;
                    Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
                    {
                        int batch = n + t; // concurrent runs of different batch sizes
                        float[] x = [.. Enumerable.Range(0, 16 * batch).Select(i => (float)(i % 7 - 3))];
                        double[] expected = PlaneOracle(c.conv, x, batch);
                        float[] y = new float[expected.Length];
                        model.Run(x, y);
                        for (int i = 0; i < y.Length; i++) Assert.True(Math.Abs(y[i] - expected[i]) <= 1e-5 * (1 + Math.Abs(expected[i])), $"batch {batch}: y[{i}] = {y[i]}, expected {expected[i]}");
                    });
                }
            });

    public static TheoryData<string, byte[]> Int64Operands => new()
    {
        { "Add node", new GraphWriter().Input("x", -1, 3).Initializer("c", [3], [1L, 2, 3]).Node("Add", ["x", "c"], "y").Output("y", -1, 3).ToBytes() },
        { "Gemm node", new GraphWriter().Input("x", -1, 3).Initializer("w", [3, 2], new float[6]).Initializer("c", [2], [1L, 2])
            .Node("Gemm", ["x", "w", "c"], "y").Output("y", -1, 2).ToBytes() },
        { "Relu node", new GraphWriter().Input("x", -1, 3).Initializer("c", [3], [1L, 2, 3]).Node("Relu", ["c"], "r").Node("Add", ["x", "r"], "y")
            .Output("y", -1, 3).ToBytes() },
        { "Concat node", new GraphWriter().Input("x", -1, 3).Initializer("c", [1, 3], [1L, 2, 3]).Node("Concat", ["x", "c"], "y", new NodeAttribute("axis", 0L))
            .Output("y", -1, 3).ToBytes() },
        { "Conv node", new GraphWriter().Input("x", -1, 1, 3, 3).Initializer("w", [1, 1, 1, 1], [2L]).Node("Conv", ["x", "w"], "y").Output("y", -1, 1, 3, 3).ToBytes() },
    };

    [Theory, MemberData(nameof(Int64Operands))]
    public void Int64_values_where_floats_are_read_are_refused_at_load_naming_the_node(string node, byte[] bytes)
    {
        Exception ex = Assert.ThrowsAny<Exception>(() => OnnxModel.Load(bytes, "types.onnx"));
        Assert.True(ex is InvalidDataException or NotSupportedException, ex.ToString());
        Assert.StartsWith("types.onnx: ", ex.Message);
        Assert.Contains(node, ex.Message);
        Assert.Contains("int64", ex.Message);
    }

    [Fact]
    public void Legacy_Add_broadcast_is_refused_by_name_and_equal_dims_are_required_before_opset_7()
    {
        byte[] axis0 = new GraphWriter().Input("x", 2, 2).Initializer("b", [2], [10f, 20f])
            .Node("Add", ["x", "b"], "y", new("broadcast", 1L), new("axis", 0L)).Output("y", 2, 2).ToBytes(opset: 6);
        Assert.Contains("attribute broadcast = 1", Assert.Throws<NotSupportedException>(() => OnnxModel.Load(axis0, "legacy.onnx")).Message);
        byte[] unequal = new GraphWriter().Input("x", 2, 2).Initializer("b", [2], [10f, 20f]).Node("Add", ["x", "b"], "y").Output("y", 2, 2).ToBytes(opset: 6);
        Assert.Contains("before opset 7 they must be equal without broadcast = 1", Assert.Throws<InvalidDataException>(() => OnnxModel.Load(unequal, "legacy.onnx")).Message);
    }

    /// <summary>(op, opset, attribute the op does not have in that opset, its value); each is refused naming the attribute.</summary>
    public static TheoryData<string, int, string> UnknownAttributes => new()
    {
        { "Add", 7, "broadcast" }, { "Add", 14, "axis" }, { "Relu", 6, "consumed_inputs" }, { "Relu", 13, "alpha" },
        { "MaxPool", 7, "ceil_mode" }, { "MaxPool", 9, "dilations" }, { "MaxPool", 7, "storage_order" },
        { "AveragePool", 9, "ceil_mode" }, { "AveragePool", 6, "count_include_pad" }, { "AveragePool", 11, "dilations" },
        { "Gemm", 7, "broadcast" }, { "Dropout", 7, "is_test" }, { "Dropout", 12, "ratio" }, { "Reshape", 13, "allowzero" },
        { "Flatten", 13, "axes" }, { "Softmax", 13, "axes" }, { "Identity", 16, "axis" }, { "GlobalAveragePool", 1, "kernel_shape" },
    };

    [Theory, MemberData(nameof(UnknownAttributes))]
    public void Attributes_the_opset_does_not_define_are_refused(string op, int opset, string attribute)
    {
        string[] inputs = op switch { "Add" => ["x", "x"], "Gemm" => ["x", "x", "x"], "Reshape" => ["x", "shape"], _ => ["x"] };
        byte[] bytes = new GraphWriter().Input("x", 2, 2).Initializer("shape", [2], [2L, 2])
            .Node(op, inputs, "y", [new NodeAttribute(attribute, 0L), .. op is "MaxPool" or "AveragePool" ? [new NodeAttribute("kernel_shape", Ints: [1, 1])] : Array.Empty<NodeAttribute>()])
            .Output("y", 2, 2).ToBytes(opset);
        var ex = Assert.Throws<NotSupportedException>(() => OnnxModel.Load(bytes, "attributes.onnx"));
        Assert.StartsWith($"attributes.onnx: {op} node", ex.Message);
        Assert.Contains($"attribute {attribute} (unknown to this op's implementation)", ex.Message);
    }

    [Fact]
    public void Valid_models_the_runtime_does_not_run_are_NotSupported_naming_the_node()
    {
        byte[] float64 = new GraphWriter().Input("x", 2).RawInitializer("d", [2], 11, new byte[16]).Node("Add", ["x", "d"], "y").Output("y", 2).ToBytes();
        Assert.Contains("data type 11", Assert.Throws<NotSupportedException>(() => OnnxModel.Load(float64, "double.onnx")).Message);
        byte[] sparse = new WireWriter().Varint(1, 8)
            .Message(7, new WireWriter().String(2, "g").Message(15, new WireWriter().Message(1, new WireWriter().Int64s(1, [2]).Varint(2, 1))))
            .Message(8, new WireWriter().String(1, "").Varint(2, 13)).ToArray();
        Assert.Contains("sparse initializers", Assert.Throws<NotSupportedException>(() => OnnxModel.Load(sparse, "sparse.onnx")).Message);
    }

    [Fact]
    public void Opset_4_Reshape_and_opset_3_Concat_without_axis_run_as_their_opsets_define()
    {
        float[] x = [1, 2, 3, 4, 5, 6];
        byte[] reshape = new GraphWriter().Input("x", 2, 3).Node("Reshape", ["x"], "y", new NodeAttribute("shape", Ints: [3, 2])).Output("y", 3, 2).ToBytes(opset: 4);
        OnnxModel r = OnnxModel.Load(reshape, "reshape4.onnx");
        Assert.Equal([3, 2], r.OutputMetadata["y"].Dimensions);
        float[] y = new float[6];
        r.Run(x, y);
        Assert.Equal(x, y);
        byte[] concat = new GraphWriter().Input("x", 2, 3).Initializer("z", [2, 3], [10f, 20, 30, 40, 50, 60]).Node("Concat", ["x", "z"], "y")
            .Output("y", 2, 6).ToBytes(opset: 3); // axis defaults to 1 before opset 4
        OnnxModel c = OnnxModel.Load(concat, "concat3.onnx");
        float[] joined = new float[12];
        c.Run(x, joined);
        Assert.Equal([1, 2, 3, 10, 20, 30, 4, 5, 6, 40, 50, 60], joined);
    }

    [Fact]
    public void A_graph_output_listed_twice_loads_and_runs()
    {
        byte[] bytes = new GraphWriter().Input("x", -1, 3).Node("Relu", ["x"], "y").Output("y", -1, 3).Output("y", -1, 3).ToBytes();
        OnnxModel model = OnnxModel.Load(bytes, "twice.onnx");
        Assert.Single(model.OutputMetadata);
        float[] a = new float[3], b = new float[3];
        model.Run(["x"], [new float[] { -1, 2, -3 }], ["y", "y"], [a, b]);
        Assert.Equal([0, 2, 0], a);
        Assert.Equal(a, b);
    }

    [Fact]
    public void Add_broadcasts_a_zero_length_dimension_against_one_to_zero()
    {
        byte[] bytes = new GraphWriter().Input("x", -1, 1).Initializer("b", [0], ReadOnlySpan<float>.Empty).Node("Add", ["x", "b"], "y").Output("y", -1, 0).ToBytes();
        OnnxModel model = OnnxModel.Load(bytes, "empty.onnx");
        Assert.Equal(0, model.OutputLength(2));
        model.Run(new float[2], Span<float>.Empty);
    }

    [Fact]
    public void Metadata_dimensions_cannot_change_the_model()
    {
        Fixture f = Fixture.Named("lenet5");
        OnnxModel model = OnnxModel.Load(f.ModelPath);
        int[] before = [.. model.InputMetadata["x"].Dimensions];
        var dims = (IList<int>)model.InputMetadata["x"].Dimensions;
        try { dims[1] = 99; }
        catch (NotSupportedException) { }
        Assert.Equal(before, model.InputMetadata["x"].Dimensions);
        Assert.Equal(f.Input.Length / f.Batch, model.InputLength(1));
    }
}
