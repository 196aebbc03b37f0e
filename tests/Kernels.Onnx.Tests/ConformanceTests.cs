using Kernels.Onnx.Protobuf;
using Kernels.Onnx.Schema;

namespace Kernels.Onnx.Tests;

/// <summary>
/// The ONNX project's own backend node tests for the supported ops (Conformance/make_conformance.sh copies them from
/// python3-onnx 1.12). A node test feeds weights, shapes and pads as graph inputs; the harness binds every input but
/// the first as a constant (<see cref="OnnxModelOptions.Constants"/>), runs the first and compares the first output
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
        OnnxTensor input = Tensor(Path.Combine(data, "input_0.pb")), expected = Tensor(Path.Combine(data, "output_0.pb"));
        string output = graph.Outputs[0].Name;
        Assert.Equal(expected.Dims, model.OutputMetadata[output].Dimensions);
        float[] actual = new float[expected.Floats!.Length];
        model.Run([graph.Inputs[0].Name], [input.Floats], [output], [actual]);
        Tolerance.Close(expected.Floats, actual, name);
    }

    private static OnnxTensor Tensor(string path)
    {
        TensorMessage t = TensorMessage.Read(new WireReader(File.ReadAllBytes(path), path));
        return new OnnxTensor(t.Dims.Select(d => (int)d).ToArray(), t.Floats, t.Int64s);
    }
}
