using FsCheck;
using FsCheck.Fluent;
using Kernels.Nn;
using Kernels.Onnx.Export;
using Kernels.Onnx.Tests.Export;

namespace Kernels.Onnx.Interop.Tests;

/// <summary>
/// Every network Kernels.Onnx.Tests' export tests write (the ThreeLayerConvNet, the named and the generated stacks)
/// passes onnx.checker.check_model(model, full_check=True).
/// </summary>
public class ExportCheckerTests
{
    private static byte[] Export(Stack s) => OnnxExport.ToBytes(s.Build(new FastKernels()), s.C, s.H, s.W);

    /// <summary>The MobileNet-style layers (grouped and dilated convolution, batch norm, every activation, global pooling) export valid models.</summary>
    [Fact]
    public void Modern_layers_pass_the_checker()
    {
        var kernels = new FastKernels();
        Activation[] functions = [Activation.Relu, Activation.Sigmoid, Activation.Tanh, Activation.HardSigmoid, Activation.HardSwish, Activation.Silu,
            Activation.Gelu(), Activation.LeakyRelu(0.2f), Activation.Elu(0.7f), Activation.Relu6];
        OnnxChecker.Check([.. functions.Select(f => ($"conv-bn-{f}", OnnxExport.ToBytes(new Sequential<float>(kernels,
            new Conv2DLayer<float>(kernels, "conv", 4, 8, 3, 3, new Conv2DParams(1, 1) { Groups = 4, DilationW = 2, PadLeft = 2, PadRight = 2 },
                new Random(4), 1.0),
            new BatchNorm2DLayer<float>(kernels, 8), new ActivationLayer<float>(kernels, f), new GlobalAvgPoolLayer<float>(kernels),
            new AffineLayer<float>(kernels, "fc", 8, 3, new Random(5), 0.5)), 4, 7, 9)))]);
    }

    [Fact]
    public void ThreeLayerConvNet_passes_the_checker()
    {
        var options = new ConvNetOptions(Channels: 1, Height: 14, Width: 14, Filters: 6, FilterSize: 5, Hidden: 20, Classes: 10, WeightScale: null, Seed: 3);
        OnnxChecker.Check("ThreeLayerConvNet", OnnxExport.ToBytes(new ThreeLayerConvNet<float>(new FastKernels(), options)));
    }

    [Theory, MemberData(nameof(NamedStacks.Names), MemberType = typeof(NamedStacks))]
    public void Named_stacks_pass_the_checker(string name) => OnnxChecker.Check(name, Export(NamedStacks.All[name]));

    /// <summary>
    /// 300 stacks from the generator of the export property, with a fixed seed, checked in one Python run (one run per
    /// case would cost an interpreter start each). Refused stacks are listed shortest first.
    /// </summary>
    [Fact]
    public void Generated_stacks_pass_the_checker()
    {
        Stack[] stacks = Gen.Sample(StackGen.Stack(), 300, new Rnd(2026), 10);
        Assert.Equal(300, stacks.Length);
        OnnxChecker.Check(stacks.OrderBy(s => s.ToString().Length).Select((s, i) => ($"#{i} {s}", Export(s))).ToArray());
    }

    /// <summary>
    /// The checker refuses what the exporter once wrote for a Conv after an affine layer: a Conv reading a Gemm's
    /// (N, M) output. Without its attributes the same graph crashes onnx 1.12's shape inference (SIGSEGV), which
    /// check_models.py reports as that model's failure, not the whole run's.
    /// </summary>
    [Fact]
    public void The_checker_refuses_a_conv_on_a_flat_value()
    {
        static byte[] FlatConv(params NodeAttribute[] attributes) => new GraphWriter().Input("x", -1, 4)
            .Initializer("a.W", [4, 3], new float[12]).Initializer("a.b", [3], new float[3])
            .Initializer("c.W", [2, 3, 1, 1], new float[6]).Initializer("c.b", [2], new float[2])
            .Node("Gemm", ["x", "a.W", "a.b"], "h").Node("Conv", ["h", "c.W", "c.b"], "y", attributes)
            .Output("y", -1, 2).ToBytes();
        IReadOnlyDictionary<string, string?> errors = OnnxChecker.Errors(
        [
            ("as exported", FlatConv(new NodeAttribute("kernel_shape", Ints: [1, 1]), new NodeAttribute("strides", Ints: [1, 1]))),
            ("no attributes", FlatConv()),
        ]);
        Assert.Contains("Conv_1", errors["as exported"]);
        Assert.NotNull(errors["no attributes"]);
    }
}
