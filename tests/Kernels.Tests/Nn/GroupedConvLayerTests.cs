using Kernels.Nn;

namespace Kernels.Tests.Nn;

/// <summary>Conv2DLayer with groups and dilation: the kernels' results through the layer, and checkpoints that read back.</summary>
public sealed class GroupedConvLayerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kernels-grouped-layer-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<int, int, int> Layers => new()
    {
        { 8, 12, 4 },   // grouped: 4 groups of 2 channels and 3 filters
        { 8, 16, 8 },   // depthwise, multiplier 2
    };

    private static Conv2DParams P(int groups) => new Conv2DParams(1, 2) { Groups = groups, Dilation = 2, PadRight = 1 };

    [Theory, MemberData(nameof(Layers))]
    public void Forward_and_backward_are_the_kernels_results(int channels, int filters, int groups)
    {
        var layer = new Conv2DLayer<float>(new FastKernels(2), "c", channels, filters, 3, 3, P(groups), new Random(1), 0.3);
        Assert.Equal(new Shape4(filters, channels / groups, 3, 3), layer.FilterShape);
        var x = NchwTensor<float>.Create(new Shape4(2, channels, 9, 11));
        TestData.Floats(2, x.Span.Length).CopyTo(x.Span);
        NchwTensor<float> y = layer.Forward(x);
        var expected = new float[y.Span.Length];
        Conv2D.Forward(x.ReadOnlyView, new ReadOnlyNchwSpan<float>(layer.W.Value, layer.FilterShape), layer.B.Value, layer.Params, new NchwSpan<float>(expected, y.Shape));
        FloatAssert.BitwiseEqual(expected, y.Span, "y");

        var dout = NchwTensor<float>.Create(y.Shape);
        TestData.Floats(3, dout.Span.Length).CopyTo(dout.Span);
        NchwTensor<float> dx = layer.Backward(dout);
        float[] edx = new float[x.Span.Length], edw = new float[layer.W.Value.Length], edb = new float[filters];
        Conv2D.Backward(dout.ReadOnlyView, x.ReadOnlyView, new ReadOnlyNchwSpan<float>(layer.W.Value, layer.FilterShape), layer.Params,
            new NchwSpan<float>(edx, x.Shape), new NchwSpan<float>(edw, layer.FilterShape), edb);
        FloatAssert.BitwiseEqual(edx, dx.Span, "dx");
        FloatAssert.BitwiseEqual(edw, layer.W.Grad, "dw");
        FloatAssert.BitwiseEqual(edb, layer.B.Grad, "db");
    }

    [Theory, MemberData(nameof(Layers))]
    public void A_checkpoint_reads_back_into_a_layer_of_the_same_form(int channels, int filters, int groups)
    {
        var saved = new Conv2DLayer<float>(new FastKernels(), "c", channels, filters, 3, 3, P(groups), new Random(4), 0.3);
        string path = Path.Combine(_dir, "c.safetensors");
        Safetensors.Save(path, saved.Parameters);
        var loaded = new Conv2DLayer<float>(new FastKernels(), "c", channels, filters, 3, 3, P(groups), new Random(5), 0.3);
        Safetensors.Load(path, loaded.Parameters);
        var x = NchwTensor<float>.Create(new Shape4(1, channels, 7, 7));
        TestData.Floats(6, x.Span.Length).CopyTo(x.Span);
        FloatAssert.BitwiseEqual(saved.Forward(x).Span, loaded.Forward(x).Span, "y after load");
    }

    [Fact]
    public void Channels_or_filters_that_groups_do_not_divide_are_refused()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Conv2DLayer<float>(new FastKernels(), "c", 6, 8, 3, 3, new Conv2DParams(1, 1) { Groups = 4 }, new Random(1), 0.1));
        Assert.Equal("inChannels", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() => new Conv2DLayer<float>(new FastKernels(), "c", 8, 6, 3, 3, new Conv2DParams(1, 1) { Groups = 4 }, new Random(1), 0.1));
        Assert.Equal("filters", ex.ParamName);
    }
}
