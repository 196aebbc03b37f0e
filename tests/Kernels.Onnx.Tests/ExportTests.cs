using Kernels.Nn;
using Kernels.Onnx.Tests.Export;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Kernels.Onnx.Tests;

/// <summary>Networks exported by Kernels run in ONNX Runtime and in <see cref="OnnxModel"/> with the network's own scores, at several batch sizes.</summary>
public class ExportTests
{
    private static float[] Random(int seed, int length)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    /// <summary>
    /// The network's scores, ONNX Runtime's and Kernels.Onnx's on the exported bytes, for each batch size; both runs
    /// go by the documented names, input "x" and output "y".
    /// </summary>
    private static void RoundTrip(byte[] model, Func<float[], Shape4, float[]> scores, int c, int h, int w)
    {
        using var session = new InferenceSession(model);
        OnnxModel ours = OnnxModel.Load(model, "exported.onnx");
        Assert.Equal([-1, c, h, w], ours.InputMetadata["x"].Dimensions);
        foreach (int n in new[] { 1, 2, 5 })
        {
            var shape = new Shape4(n, c, h, w);
            float[] x = Random(n, (int)shape.Length), expected = scores(x, shape);
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x, [n, c, h, w]))], ["y"]);
            float[] onnxRuntime = results.Single(r => r.Name == "y").AsEnumerable<float>().ToArray();
            Tolerance.Close(expected, onnxRuntime, $"ONNX Runtime, batch {n}");
            float[] reloaded = new float[ours.OutputLength(n)];
            ours.Run(["x"], [x], ["y"], [reloaded]);
            Tolerance.Close(expected, reloaded, $"Kernels.Onnx, batch {n}");
        }
    }

    private static float[] Forward(Layer<float> net, float[] x, Shape4 s) => net.Forward(NchwTensor<float>.Wrap(x, s)).Span.ToArray();

    /// <summary>Convolutions with PyTorch's parameters: groups, dilation, strides and pads per axis (depthwise too).</summary>
    [Theory]
    [InlineData(2, 1, 1, 2, 1, 0, 1, 2)]
    [InlineData(4, 2, 2, 1, 2, 1, 0, 1)]
    [InlineData(1, 1, 2, 2, 0, 2, 1, 0)]
    public void Grouped_dilated_and_per_axis_convolutions_export(int groups, int dilationH, int dilationW, int strideH, int top, int bottom, int left, int right)
    {
        var p = new Conv2DParams(1, 0)
        {
            Groups = groups, DilationH = dilationH, DilationW = dilationW, StrideH = strideH, StrideW = 1,
            PadTop = top, PadBottom = bottom, PadLeft = left, PadRight = right,
        };
        var kernels = new FastKernels();
        var net = new Sequential<float>(kernels,
            new Conv2DLayer<float>(kernels, "conv", 4, 4 * (groups == 4 ? 2 : 1), 3, 3, p, new Random(3), 0.5),
            new ReluLayer<float>(kernels));
        RoundTrip(OnnxExport.ToBytes(net, 4, 9, 11), (x, s) => Forward(net, x, s), 4, 9, 11);
    }

    public static TheoryData<string> Activations => ["Relu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Silu", "Gelu", "LeakyRelu", "Elu", "Relu6"];

    /// <summary>Batch norm in eval mode (random running statistics), each activation and global pooling: the MobileNet-style layers.</summary>
    [Theory, MemberData(nameof(Activations))]
    public void Batch_norm_activations_and_global_pooling_export(string activation)
    {
        Activation f = activation switch
        {
            "Relu" => Kernels.Activation.Relu, "Sigmoid" => Kernels.Activation.Sigmoid, "Tanh" => Kernels.Activation.Tanh,
            "HardSigmoid" => Kernels.Activation.HardSigmoid, "HardSwish" => Kernels.Activation.HardSwish, "Silu" => Kernels.Activation.Silu,
            "Gelu" => Kernels.Activation.Gelu(), "LeakyRelu" => Kernels.Activation.LeakyRelu(0.2f), "Elu" => Kernels.Activation.Elu(0.7f),
            _ => Kernels.Activation.Relu6,
        };
        var kernels = new FastKernels();
        var bn = new BatchNorm2DLayer<float>(kernels, 6) { Training = false };
        var random = new Random(9);
        foreach (Parameter<float> p in bn.Parameters.Concat(bn.Buffers))
            for (int i = 0; i < p.Value.Length; i++) p.Value[i] = (float)random.NextDouble() + 0.5f;
        var net = new Sequential<float>(kernels,
            new Conv2DLayer<float>(kernels, "conv", 3, 6, 3, 3, new Conv2DParams(1, 1) { Groups = 3 }, new Random(4), 1.0),
            bn, new ActivationLayer<float>(kernels, f), new GlobalAvgPoolLayer<float>(kernels), new AffineLayer<float>(kernels, "fc", 6, 4, new Random(5), 0.5))
        { Training = false };
        RoundTrip(OnnxExport.ToBytes(net, 3, 7, 5), (x, s) => Forward(net, x, s), 3, 7, 5);
    }

    [Fact]
    public void Exported_models_name_their_input_x_and_their_output_y_as_documented()
    {
        var net = new ThreeLayerConvNet<float>(new FastKernels(), new ConvNetOptions(Channels: 1, Height: 8, Width: 8, Filters: 2, FilterSize: 3, Hidden: 4));
        byte[] model = OnnxExport.ToBytes(net);
        OnnxModel ours = OnnxModel.Load(model, "exported.onnx");
        Assert.Equal(["x"], ours.InputMetadata.Keys);
        Assert.Equal(["y"], ours.OutputMetadata.Keys);
        Assert.Equal([-1, 10], ours.OutputMetadata["y"].Dimensions);
        using var session = new InferenceSession(model);
        Assert.Equal(["x"], session.InputMetadata.Keys);
        Assert.Equal(["y"], session.OutputMetadata.Keys); // RoundTrip runs every export by these names
    }

    /// <summary>Every layer type; Conv and pools after affine layers and flattens (Kernels reads (N, D) as (N, D, 1, 1)).</summary>
    [Theory, MemberData(nameof(NamedStacks.Names), MemberType = typeof(NamedStacks))]
    public void Named_stacks_score_in_onnx_runtime_and_kernels_onnx_as_in_kernels(string name) =>
        Generated_stacks_score_in_onnx_runtime_and_kernels_onnx_as_in_kernels(NamedStacks.All[name]);

    [StackProperty]
    public void Generated_stacks_score_in_onnx_runtime_and_kernels_onnx_as_in_kernels(Stack stack)
    {
        Sequential<float> net = stack.Build(new FastKernels());
        RoundTrip(OnnxExport.ToBytes(net, stack.C, stack.H, stack.W), (x, s) => Forward(net, x, s), stack.C, stack.H, stack.W);
    }

    [Fact]
    public void ThreeLayerConvNet_runs_in_onnx_runtime()
    {
        var options = new ConvNetOptions(Channels: 1, Height: 14, Width: 14, Filters: 6, FilterSize: 5, Hidden: 20, Classes: 10, WeightScale: null, Seed: 3);
        var net = new ThreeLayerConvNet<float>(new FastKernels(), options);
        RoundTrip(OnnxExport.ToBytes(net), (x, s) => net.Scores(NchwTensor<float>.Wrap(x, s)).Span.ToArray(), 1, 14, 14);
    }

    [Theory, MemberData(nameof(FixtureTests.Names), MemberType = typeof(FixtureTests))]
    public void Imported_fixtures_give_what_onnx_runtime_gives_on_the_same_file(string name)
    {
        Fixture f = Fixture.Named(name);
        using var session = new InferenceSession(f.ModelPath);
        OnnxModel ours = OnnxModel.Load(f.ModelPath);
        int per = f.Input.Length / f.Batch;
        foreach (int n in new[] { 1, f.Batch })
        {
            float[] x = f.Input[..(n * per)], y = new float[ours.OutputLength(n)];
            ours.Run(x, y);
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x, [n, .. f.InputDims[1..]]))]);
            Tolerance.Close(results.Single().AsEnumerable<float>().ToArray(), y, $"{name}, batch {n}");
        }
    }

    [Fact]
    public void A_shape_the_network_does_not_take_is_refused_before_writing()
    {
        var net = new ThreeLayerConvNet<float>(new FastKernels(), new ConvNetOptions(Channels: 1, Height: 8, Width: 8, Filters: 2, FilterSize: 3, Hidden: 4));
        Assert.Throws<ArgumentException>(() => OnnxExport.ToBytes(net.Network, 1, 10, 10));
    }
}
