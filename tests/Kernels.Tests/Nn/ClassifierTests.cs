using Kernels.Nn;

namespace Kernels.Tests.Nn;

/// <summary>The app-facing model API: a checkpoint in, the network's softmax out, bitwise the same for any caller, thread or batch.</summary>
public class ClassifierTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("classifier").FullName;
    private static readonly ConvNetOptions Small = new(Channels: 1, Height: 12, Width: 12, Filters: 4, FilterSize: 5, Hidden: 16, Classes: 7, WeightScale: null, Seed: 4);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (ThreeLayerConvNet<float> Net, string Path) Checkpoint()
    {
        var net = new ThreeLayerConvNet<float>(new FastKernels(), Small);
        string path = Path.Combine(_dir, "net.safetensors");
        Safetensors.Save(path, net.Parameters, new Dictionary<string, string> { ["input"] = "1x12x12" });
        return (net, path);
    }

    /// <summary>Softmax in double of the network's own scores: the oracle of Predict.</summary>
    private static double[] Expected(ThreeLayerConvNet<float> net, float[] images, int count)
    {
        float[] scores = net.Scores(NchwTensor<float>.Wrap(images, new Shape4(count, 1, 12, 12))).Span.ToArray();
        var p = new double[scores.Length];
        for (int n = 0; n < count; n++)
        {
            var row = scores.AsSpan(n * 7, 7).ToArray();
            double max = row.Max(), sum = row.Sum(v => Math.Exp(v - max));
            for (int k = 0; k < 7; k++) p[n * 7 + k] = Math.Exp(row[k] - max) / sum;
        }
        return p;
    }

    [Fact]
    public void Predict_is_the_softmax_of_the_networks_scores_from_a_path_a_stream_or_bytes()
    {
        (ThreeLayerConvNet<float> net, string path) = Checkpoint();
        float[] images = TestData.Floats(1, 5 * 144);
        double[] expected = Expected(net, images, 5);
        using FileStream stream = File.OpenRead(path);
        foreach (Classifier c in new[] { Classifier.Load(path), Classifier.Load(stream, "net"), Classifier.Load(File.ReadAllBytes(path), "net", 2) })
        {
            Assert.Equal(Small with { WeightScale = 1e-3, Seed = 0 }, c.Options);
            Assert.Equal((144, 7), (c.ImageLength, c.Classes));
            float[] batch = new float[5 * 7], one = new float[7];
            c.Predict(images, 5, batch);
            for (int n = 0; n < 5; n++)
            {
                c.Predict(images.AsSpan(n * 144, 144), one);
                Assert.Equal(batch.AsSpan(n * 7, 7).ToArray(), one); // bitwise: an image's scores do not depend on the batch
            }
            for (int i = 0; i < batch.Length; i++) Assert.True(Math.Abs(batch[i] - expected[i]) <= 1e-6, $"p[{i}] = {batch[i]}, expected {expected[i]}");
        }
    }

    [Fact]
    public void Concurrent_callers_get_the_single_threaded_results_and_a_warm_caller_allocates_nothing()
    {
        (_, string path) = Checkpoint();
        Classifier c = Classifier.Load(path);
        float[] images = TestData.Floats(2, 16 * 144), alone = new float[16 * 7];
        for (int n = 0; n < 16; n++) c.Predict(images.AsSpan(n * 144, 144), alone.AsSpan(n * 7, 7));
        float[][] results = new float[16][];
        Parallel.For(0, 16, new ParallelOptions { MaxDegreeOfParallelism = 16 }, t =>
        {
            var mine = new float[7];
            for (int r = 0; r < 50; r++) c.Predict(images.AsSpan(t * 144, 144), mine);
            results[t] = mine;
        });
        for (int t = 0; t < 16; t++) Assert.Equal(alone.AsSpan(t * 7, 7).ToArray(), results[t]);
        float[] p = new float[7];
        c.Predict(images.AsSpan(0, 144), p);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++) c.Predict(images.AsSpan(0, 144), p);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Bad_checkpoints_and_arguments_are_named()
    {
        (ThreeLayerConvNet<float> net, string path) = Checkpoint();
        string bare = Path.Combine(_dir, "bare.safetensors");
        Safetensors.Save(bare, net.Parameters);
        Assert.Contains("the metadata's input must be CxHxW with C = 1", Assert.Throws<InvalidDataException>(() => Classifier.Load(bare)).Message);
        string wrong = Path.Combine(_dir, "wrong.safetensors");
        Safetensors.Save(wrong, net.Parameters, new Dictionary<string, string> { ["input"] = "1x16x16" });
        Assert.Contains("do not fit images of 1x16x16", Assert.Throws<InvalidDataException>(() => Classifier.Load(wrong)).Message);
        Assert.StartsWith("junk: at offset 0", Assert.Throws<InvalidDataException>(() => Classifier.Load(new byte[3], "junk")).Message);

        Classifier c = Classifier.Load(path);
        var ex = Assert.Throws<ArgumentException>(() => c.Predict(new float[143], new float[7]));
        Assert.Equal("images", ex.ParamName);
        Assert.Contains("1 image(s) of 1x12x12 need 144", ex.Message);
        Assert.Equal("probabilities", Assert.Throws<ArgumentException>(() => c.Predict(new float[144], new float[6])).ParamName);
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => c.Predict(new float[144], 0, new float[7])).ParamName);
        float[] nan = new float[2 * 144];
        nan[144 + 17] = float.NaN;
        var bad = Assert.Throws<ArgumentException>(() => c.Predict(nan, 2, new float[14]));
        Assert.Contains("images[161] (image 1, pixel 17) is NaN", bad.Message);
        nan[144 + 17] = float.NegativeInfinity;
        Assert.Contains("is -Infinity", Assert.Throws<ArgumentException>(() => c.Predict(nan, 2, new float[14])).Message);
    }
}
