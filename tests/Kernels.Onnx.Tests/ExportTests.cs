using Kernels.Nn;
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

    /// <summary>The network's scores, ONNX Runtime's and Kernels.Onnx's on the exported bytes, for each batch size.</summary>
    private static void RoundTrip(byte[] model, Func<float[], Shape4, float[]> scores, int c, int h, int w)
    {
        using var session = new InferenceSession(model);
        OnnxModel ours = OnnxModel.Load(model, "exported.onnx");
        Assert.Equal([-1, c, h, w], ours.InputMetadata["x"].Dimensions);
        foreach (int n in new[] { 1, 2, 5 })
        {
            var shape = new Shape4(n, c, h, w);
            float[] x = Random(n, (int)shape.Length), expected = scores(x, shape);
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x, [n, c, h, w]))]);
            float[] onnxRuntime = results.Single().AsEnumerable<float>().ToArray();
            Tolerance.Close(expected, onnxRuntime, $"ONNX Runtime, batch {n}");
            float[] reloaded = new float[ours.OutputLength(n)];
            ours.Run(x, reloaded);
            Tolerance.Close(expected, reloaded, $"Kernels.Onnx, batch {n}");
        }
    }

    [Fact]
    public void ThreeLayerConvNet_runs_in_onnx_runtime()
    {
        var options = new ConvNetOptions(Channels: 1, Height: 14, Width: 14, Filters: 6, FilterSize: 5, Hidden: 20, Classes: 10, WeightScale: null, Seed: 3);
        var net = new ThreeLayerConvNet<float>(new FastKernels(), options);
        RoundTrip(OnnxExport.ToBytes(net), (x, s) => net.Scores(NchwTensor<float>.Wrap(x, s)).Span.ToArray(), 1, 14, 14);
    }

    [Fact]
    public void A_sequential_of_every_layer_runs_in_onnx_runtime()
    {
        var k = new FastKernels();
        var rng = new Random(5);
        var net = new Sequential<float>(k,
            new Conv2DLayer<float>(k, "c1", 3, 8, 3, 3, new Conv2DParams(2, 1), rng, 0.3),
            new ReluLayer<float>(k),
            new AvgPool2DLayer<float>(k, new Pool2DParams(2, 2, 1)),
            new ConvReluPool<float>(k, new Conv2DLayer<float>(k, "c2", 8, 4, 1, 1, new Conv2DParams(1, 0), rng, 0.3), new Pool2DParams(3, 3, 2)),
            new FlattenLayer<float>(),
            new AffineRelu<float>(k, new AffineLayer<float>(k, "a1", 4 * 3 * 3, 7, rng, 0.3)),
            new AffineLayer<float>(k, "a2", 7, 3, rng, 0.3));
        RoundTrip(OnnxExport.ToBytes(net, 3, 17, 17), (x, s) => net.Forward(NchwTensor<float>.Wrap(x, s)).Span.ToArray(), 3, 17, 17);
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
