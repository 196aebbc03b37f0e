using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Kernels.Onnx.Export;

namespace Kernels.Onnx.Tests;

/// <summary>
/// Malformed, truncated, mutated and unsupported models give only the documented exceptions, naming the file and
/// offset (malformed) or the node (unsupported), and never allocate beyond the plan cap.
/// </summary>
public class HostileFileTests
{
    // Small enough that a mutation that inflates an input cannot make a test allocate more than 16 MiB of buffers.
    private static readonly OnnxModelOptions Bounded = new() { MaxActivationFloats = 1 << 22 };

    /// <summary>Loads and, if that works, runs on the fixture's input; only the documented exception types may escape.</summary>
    private static void LoadsOrRefuses(byte[] bytes, float[] input, string what)
    {
        OnnxModel model;
        try
        {
            model = OnnxModel.Load(bytes, "mutant.onnx", Bounded);
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException)
        {
            Assert.StartsWith("mutant.onnx", e.Message); // every refusal names the file first
            return;
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name}: {e.Message}");
            return;
        }
        try
        {
            if (model.InputMetadata.Count != 1 || model.OutputMetadata.Count != 1) return;
            model.Run(input, new float[model.OutputLength(1) * 3]);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or InvalidOperationException) { }
        catch (Exception e)
        {
            Assert.Fail($"{what}: running it: {e.GetType().Name}: {e.Message}");
        }
    }

    public static TheoryData<string> Names => Fixture.Names;

    [Theory, MemberData(nameof(Names))]
    public void Truncated_fixtures_are_refused_or_load(string name)
    {
        Fixture f = Fixture.Named(name);
        byte[] bytes = f.ModelBytes;
        var lengths = Enumerable.Range(0, 64).Concat(Enumerable.Range(1, 150).Select(i => (int)((long)bytes.Length * i / 151))).Distinct();
        foreach (int length in lengths) LoadsOrRefuses(bytes[..length], f.Input, $"{name} cut to {length} bytes");
    }

    [Property(MaxTest = 60)]
    public FsCheck.Property Mutated_fixtures_are_refused_or_load() =>
        Prop.ForAll(
            (from fixture in Gen.Elements(Fixture.All.ToArray())
             from count in Gen.Choose(1, 6)
             from edits in Gen.ArrayOf(Gen.Zip(Gen.Choose(0, int.MaxValue), Gen.Choose(0, 255)), count)
             select (fixture, edits)).ToArbitrary(),
            c =>
            {
                byte[] bytes = c.fixture.ModelBytes;
                foreach ((int at, int value) in c.edits) bytes[at % bytes.Length] = (byte)value;
                LoadsOrRefuses(bytes, c.fixture.Input, $"{c.fixture.Name} with {string.Join(", ", c.edits.Select(e => $"[{e.Item1 % bytes.Length}]={e.Item2}"))}");
            });

    [Fact]
    public void A_tiny_file_declaring_a_huge_tensor_is_refused_before_allocating_it()
    {
        byte[] bytes = new GraphWriter(producer: "").RawInitializer("w", [1L << 40, 1L << 20], 1, new byte[8]).ToBytes();
        Assert.True(bytes.Length <= 48, $"{bytes.Length} bytes");
        var ex = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(bytes, "huge.onnx"));
        Assert.Contains("huge.onnx: offset", ex.Message);
        Assert.Contains("declares 1152921504606846976 elements but holds 8 raw bytes", ex.Message);
    }

    [Fact]
    public void A_cyclic_graph_names_the_node()
    {
        byte[] bytes = new GraphWriter().Input("x", 1, 4).Node("Add", ["x", "b"], "a").Node("Relu", ["a"], "b").Output("b", 1, 4).ToBytes();
        var ex = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(bytes, "cycle.onnx"));
        Assert.StartsWith("cycle.onnx: Add node 'Add_0' (offset ", ex.Message);
        Assert.Contains("input 'b' is not produced by an earlier node", ex.Message);
    }

    [Fact]
    public void Unsupported_ops_attributes_and_data_name_the_node()
    {
        byte[] unknown = new GraphWriter().Input("x", 1, 4).Node("LSTM", ["x"], "y").Output("y", 1, 4).ToBytes();
        string lstm = Assert.Throws<NotSupportedException>(() => OnnxModel.Load(unknown, "lstm.onnx")).Message;
        Assert.StartsWith("lstm.onnx: LSTM node 'LSTM_0' (offset ", lstm);
        Assert.Contains("op type LSTM is not supported", lstm);

        byte[] grouped = new GraphWriter().Input("x", 1, 6, 5, 5).Initializer("w", [4, 2, 3, 3], new float[72])
            .Node("Conv", ["x", "w"], "y", new NodeAttribute("group", Int: 3)).Output("y", 1, 4, 3, 3).ToBytes();
        Assert.Contains("group 3 does not divide W's 4 filters", Assert.Throws<InvalidDataException>(() => OnnxModel.Load(grouped)).Message);
        byte[] dilatedConv = new GraphWriter().Input("x", 1, 2, 5, 5).Initializer("w", [4, 2, 3, 3], new float[72])
            .Node("Conv", ["x", "w"], "y", new NodeAttribute("dilations", Ints: [3, 3])).Output("y", 1, 4, 1, 1).ToBytes();
        Assert.Contains("does not fit the padded input", Assert.Throws<InvalidDataException>(() => OnnxModel.Load(dilatedConv)).Message);

        byte[] dilated = new GraphWriter().Input("x", 1, 1, 8, 8)
            .Node("MaxPool", ["x"], "y", new NodeAttribute("kernel_shape", Ints: [2, 2]), new NodeAttribute("dilations", Ints: [2, 2])).Output("y", 1, 1, 6, 6).ToBytes();
        Assert.Contains("attribute dilations = [2,2] is not supported", Assert.Throws<NotSupportedException>(() => OnnxModel.Load(dilated)).Message);

        byte[] reflect = new GraphWriter().Input("x", 1, 4).Initializer("p", [4], [0L, 1, 0, 1])
            .Node("Pad", ["x", "p"], "y", new NodeAttribute("mode", Text: "reflect")).Output("y", 1, 6).ToBytes();
        Assert.Contains("attribute mode = reflect (only constant) is not supported", Assert.Throws<NotSupportedException>(() => OnnxModel.Load(reflect)).Message);
    }

    [Fact]
    public void External_data_initializers_are_refused_by_name()
    {
        // TensorProto.data_location = EXTERNAL (14: 1): the weights live in another file, which a stream cannot reach.
        var writer = new Kernels.Onnx.Protobuf.WireWriter().Int64s(1, [4]).Varint(2, 1).String(8, "w").Varint(14, 1);
        byte[] graph = new Kernels.Onnx.Protobuf.WireWriter().Message(5, writer).ToArray();
        byte[] bytes = new Kernels.Onnx.Protobuf.WireWriter().Varint(1, 8).Bytes(7, graph).ToArray();
        var ex = Assert.Throws<NotSupportedException>(() => OnnxModel.Load(bytes, "external.onnx"));
        Assert.StartsWith("external.onnx: initializer 'w' keeps its data in an external file", ex.Message);
    }

    [Fact]
    public void An_input_too_large_for_the_plan_cap_is_refused_at_load()
    {
        byte[] bytes = new GraphWriter().Input("x", 1, 1, 100_000, 100_000).Node("Relu", ["x"], "y").Output("y", 1, 1, 100_000, 100_000).ToBytes();
        var ex = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(bytes, "big.onnx", Bounded));
        Assert.StartsWith("big.onnx: input 'x': (1,1,100000,100000)", ex.Message);
        Assert.Contains("above OnnxModelOptions.MaxActivationFloats (4194304)", ex.Message);
    }

    [Fact]
    public void Files_that_are_not_onnx_name_the_offset()
    {
        var text = Assert.Throws<InvalidDataException>(() => OnnxModel.Load("hello, world\n"u8, "notes.txt"));
        Assert.StartsWith("notes.txt: offset ", text.Message);
        var empty = Assert.Throws<InvalidDataException>(() => OnnxModel.Load([], "empty.onnx"));
        Assert.Contains("the model has no graph", empty.Message);
    }
}
