using Kernels.Onnx.Protobuf;
using Kernels.Onnx.Schema;

namespace Kernels.Onnx.Tests;

/// <summary>
/// The ONNX project's own backend node tests for the supported ops (Conformance/make_conformance.sh copies them from
/// python3-onnx 1.12). A node test feeds weights, shapes and pads as graph inputs; the harness binds every input but
/// the first as a constant (<see cref="OnnxModelOptions.Constants"/>), runs the first and compares every output
/// with the case's expected tensor within the fixtures' tolerance. The cases this runtime refuses are listed here
/// and in docs/api.md, and must be refused at load with <see cref="NotSupportedException"/> saying why.
/// </summary>
public class ConformanceTests
{
    private static string Folder => Path.Combine(AppContext.BaseDirectory, "Conformance");

    /// <summary>Case -> the words the refusal must contain.</summary>
    private static readonly Dictionary<string, string> Refused = new()
    {
        ["test_maxpool_2d_dilations"] = "attribute dilations = [2,2]",
        ["test_maxpool_2d_uint8"] = "element type 2",
        ["test_batchnorm_epsilon_training_mode"] = "is used; only the first output is supported", // the running statistics
        ["test_batchnorm_example_training_mode"] = "is used; only the first output is supported",
        ["test_dropout_default_mask"] = "output 1 ('z') is used",
        ["test_reshape_allowzero_reordered"] = "attribute allowzero = 1",
        ["test_constant"] = "graph output 'values' is a constant",
        // The run's outputs are float: a graph whose output is a shape (int64) is refused; Shape runs inside graphs.
        ["test_shape"] = "only float outputs are supported",
        ["test_shape_clip_end"] = "only float outputs are supported",
        ["test_shape_clip_start"] = "only float outputs are supported",
        ["test_shape_end_1"] = "only float outputs are supported",
        ["test_shape_end_negative_1"] = "only float outputs are supported",
        ["test_shape_example"] = "only float outputs are supported",
        ["test_shape_start_1"] = "only float outputs are supported",
        ["test_shape_start_1_end_2"] = "only float outputs are supported",
        ["test_shape_start_1_end_negative_1"] = "only float outputs are supported",
        ["test_shape_start_negative_1"] = "only float outputs are supported",
        // The run's inputs are float: ConstantOfShape of a shape given at run time (int64) is refused; of a computed or constant shape it runs.
        ["test_constantofshape_float_ones"] = "input 'x' has element type 7",
        ["test_constantofshape_int_shape_zero"] = "input 'x' has element type 7",
        ["test_constantofshape_int_zeros"] = "input 'x' has element type 7",
    };

    public static TheoryData<string> Cases => [.. Directory.GetDirectories(Folder, "test_*").Select(d => Path.GetFileName(d)).Order()];

    [Theory, MemberData(nameof(Cases))]
    public void Node_test(string name)
    {
        string dir = Path.Combine(Folder, name);
        byte[] bytes = File.ReadAllBytes(Path.Combine(dir, "model.onnx"));
        GraphMessage graph = ModelMessage.Read(bytes, name).Graph!;
        string data = Path.Combine(dir, "test_data_set_0");
        var constants = new Dictionary<string, OnnxTensor>();
        for (int i = 1; i < graph.Inputs.Count; i++) constants[graph.Inputs[i].Name] = Tensor(Path.Combine(data, $"input_{i}.pb"));
        var options = new OnnxModelOptions { Constants = constants };
        if (Refused.TryGetValue(name, out string? reason))
        {
            Assert.Contains(reason, Assert.Throws<NotSupportedException>(() => OnnxModel.Load(bytes, name, options)).Message);
            return;
        }
        OnnxModel model = OnnxModel.Load(bytes, name, options);
        OnnxTensor input = Tensor(Path.Combine(data, "input_0.pb"));
        OnnxTensor[] expected = [.. graph.Outputs.Select((_, o) => Tensor(Path.Combine(data, $"output_{o}.pb")))];
        string[] outputs = [.. graph.Outputs.Select(o => o.Name)];
        for (int o = 0; o < outputs.Length; o++) Assert.Equal(expected[o].Dims, model.OutputMetadata[outputs[o]].Dimensions);
        float[][] actual = [.. expected.Select(e => new float[e.Floats!.Length])];
        model.Run([graph.Inputs[0].Name], [input.Floats], outputs, [.. actual.Select(a => new Memory<float>(a))]);
        for (int o = 0; o < outputs.Length; o++) Tolerance.Close(expected[o].Floats, actual[o], $"{name} output {o}");
    }

    private static OnnxTensor Tensor(string path)
    {
        TensorMessage t = TensorMessage.Read(new WireReader(File.ReadAllBytes(path), path));
        return new OnnxTensor(t.Dims.Select(d => (int)d).ToArray(), t.Floats, t.Int64s);
    }
}
