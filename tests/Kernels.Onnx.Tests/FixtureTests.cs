namespace Kernels.Onnx.Tests;

/// <summary>Models exported by PyTorch load and give torch's outputs, at any batch size and thread count, allocating nothing once planned.</summary>
public class FixtureTests
{
    public static TheoryData<string> Names => Fixture.Names;

    [Theory, MemberData(nameof(Names))]
    public void Matches_torch(string name)
    {
        Fixture f = Fixture.Named(name);
        OnnxModel model = OnnxModel.Load(f.ModelPath);
        Assert.Equal(f.InputDims.Skip(1), model.InputMetadata["x"].Dimensions.Skip(1));
        Assert.Equal(-1, model.InputMetadata["x"].Dimensions[0]); // exported with a symbolic batch
        Assert.Equal([-1, .. f.OutputDims.Skip(1)], model.OutputMetadata["y"].Dimensions);
        float[] y = new float[model.OutputLength(f.Batch)];
        model.Run(f.Input, y);
        Tolerance.Close(f.TorchOutput, y, name);
    }

    [Theory, MemberData(nameof(Names))]
    public void Each_sample_alone_and_two_threads_give_the_same_bits(string name)
    {
        Fixture f = Fixture.Named(name);
        OnnxModel one = OnnxModel.Load(f.ModelPath), two = OnnxModel.Load(f.ModelBytes, f.Name, new OnnxModelOptions { MaxDegreeOfParallelism = 2 });
        float[] x = f.Input, batched = new float[one.OutputLength(f.Batch)], threaded = new float[batched.Length];
        one.Run(x, batched);
        two.Run(x, threaded);
        Assert.Equal(batched, threaded);
        int inSample = x.Length / f.Batch, outSample = batched.Length / f.Batch;
        for (int n = 0; n < f.Batch; n++)
        {
            float[] alone = new float[outSample];
            one.Run(x.AsSpan(n * inSample, inSample), alone);
            // Bitwise: every kernel computes an image's outputs from that image alone, in an order that does not
            // depend on the batch (the GEMM's row blocks are per row).
            Assert.Equal(batched.AsSpan(n * outSample, outSample).ToArray(), alone);
        }
    }

    [Fact]
    public void Named_run_matches_the_single_run_and_checks_its_arguments()
    {
        Fixture f = Fixture.Named("lenet5");
        OnnxModel model = OnnxModel.Load(f.ModelPath);
        float[] x = f.Input, y = new float[model.OutputLength(f.Batch)], named = new float[y.Length];
        model.Run(x, y);
        model.Run(["x"], [x], ["y"], [named]);
        Assert.Equal(y, named);
        Assert.Contains("not a positive multiple of one sample's 784 floats", Assert.Throws<ArgumentException>(() => model.Run(x.AsSpan(1), y)).Message);
        var ex = Assert.Throws<ArgumentException>(() => model.Run(x, new float[y.Length + 1]));
        Assert.Equal("output", ex.ParamName);
        Assert.Contains($"but the model gives {y.Length} floats", ex.Message);
        Assert.Equal("inputNames", Assert.Throws<ArgumentException>(() => model.Run(["z"], [x], ["y"], [named])).ParamName);
        Assert.Equal("outputNames", Assert.Throws<ArgumentException>(() => model.Run(["x"], [x], ["q"], [named])).ParamName);
        Assert.Equal("batch", Assert.Throws<ArgumentOutOfRangeException>(() => model.OutputLength(0)).ParamName);
        Assert.Equal("batch", Assert.Throws<ArgumentOutOfRangeException>(() => model.InputLength(-2)).ParamName);
    }
}

public class ProfileTests
{
    [Fact]
    public void Profile_times_every_node_with_what_it_ran_and_leaves_results_unchanged()
    {
        Fixture f = Fixture.Named("convbn");
        OnnxModel model = OnnxModel.Load(f.ModelPath);
        float[] before = new float[model.OutputLength(f.Batch)], after = new float[before.Length];
        model.Run(f.Input, before);
        IReadOnlyList<OnnxNodeProfile> profile = model.Profile(f.Input, runs: 3);
        Assert.NotEmpty(profile);
        Assert.DoesNotContain(profile, p => p.OpType == "Constant"); // constants are values, not nodes, after load
        Assert.All(profile, p => Assert.True(p.MinMicroseconds >= 0 && p.MedianMicroseconds >= p.MinMicroseconds, p.ToString()));
        OnnxNodeProfile conv = profile.First(p => p.OpType == "Conv");
        Assert.Contains(conv.Detail.Split(',')[0], Enum.GetNames<Conv2DAlgorithm>());
        Assert.Equal(f.Batch, conv.OutputDimensions[0]);
        Assert.Equal("y", profile[^1].OutputName);
        model.Run(f.Input, after);
        Assert.Equal(before, after);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Profile(f.Input, runs: 0));
    }
}
