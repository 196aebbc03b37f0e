using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Kernels.Nn;

namespace Kernels.Tests.Nn;

/// <summary>The app-facing model API: a checkpoint in, the network's softmax out, bitwise the same for any caller, thread or batch.</summary>
[Trait("Category", "Kernel")]
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
        ConvNetOptions o = net.Options;
        float[] scores = net.Scores(NchwTensor<float>.Wrap(images, new Shape4(count, o.Channels, o.Height, o.Width))).Span.ToArray();
        var p = new double[scores.Length];
        for (int n = 0; n < count; n++)
        {
            var row = scores.AsSpan(n * o.Classes, o.Classes).ToArray();
            double max = row.Max(), sum = row.Sum(v => Math.Exp(v - max));
            for (int k = 0; k < o.Classes; k++) p[n * o.Classes + k] = Math.Exp(row[k] - max) / sum;
        }
        return p;
    }

    /// <summary>A float softmax row of <paramref name="classes"/> against the double oracle (see <see cref="Tolerance.LossBound"/>).</summary>
    private static void AssertProbabilities(double[] expected, float[] actual, int classes, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double bound = Tolerance.LossBound(classes, 1, 1.0);
        for (int i = 0; i < actual.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= bound, $"{what}: p[{i}] = {actual[i]}, expected {expected[i]} (bound {bound})");
    }

    /// <summary>The checkpoint's bytes as Safetensors.Write gives them, with the input metadata the Classifier reads.</summary>
    private static byte[] Bytes(IReadOnlyList<Parameter<float>> parameters, string input)
    {
        var stream = new MemoryStream();
        Safetensors.Write(stream, parameters, new Dictionary<string, string> { ["input"] = input });
        return stream.ToArray();
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

    /// <summary>
    /// The pool builds a network for each caller that finds none idle. Those networks must have the loaded weights
    /// even when the caller reused its byte array for another checkpoint after Load (they were built from the
    /// caller's array, so concurrent callers silently used the other weights).
    /// </summary>
    [Fact]
    public void Networks_built_after_load_have_the_loaded_weights_when_the_caller_reuses_its_bytes()
    {
        var net = new ThreeLayerConvNet<float>(new FastKernels(), Small);
        var other = new ThreeLayerConvNet<float>(new FastKernels(), Small with { Seed = 9 });
        byte[] bytes = Bytes(net.Parameters, "1x12x12"), otherBytes = Bytes(other.Parameters, "1x12x12");
        Assert.Equal(bytes.Length, otherBytes.Length);
        Classifier c = Classifier.Load(bytes, "reused");
        otherBytes.CopyTo(bytes, 0); // the caller's buffer now holds another valid checkpoint

        float[] images = TestData.Floats(7, 3 * 144), alone = new float[3 * 7];
        double[] expected = Expected(net, images, 3);
        Classifier.Network held = c.Rent(); // the loaded network is busy: the next call builds one
        c.Predict(images, 3, alone);
        Assert.Equal(2, c.Networks);
        c.Return(held);
        AssertProbabilities(expected, alone, 7, "a network built after the buffer changed");

        // Concurrent callers: every network the pool builds gives the single-threaded bits.
        float[][] results = new float[8][];
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t =>
        {
            var mine = new float[3 * 7];
            for (int r = 0; r < 20; r++) c.Predict(images, 3, mine);
            results[t] = mine;
        });
        Assert.All(results, r => Assert.Equal(alone, r));
    }

    /// <summary>A ThreeLayerConvNet's shape: any filter size, odd or even, on images the pooled conv output fits.</summary>
    public sealed record NetCase(int C, int H, int W, int F, int K, int Hidden, int Classes, int Count, int Seed)
    {
        // An even filter size with pad (K - 1) / 2 takes a row and a column off the image; the 2x2 pool needs 2 of each left.
        public bool IsValid => C >= 1 && F >= 1 && K >= 1 && Hidden >= 1 && Classes >= 1 && Count >= 1 && Math.Min(H, W) >= (K % 2 == 0 ? 3 : 2);
        public ConvNetOptions Options => new(C, H, W, F, K, Hidden, Classes, WeightScale: null, Seed: Seed);
        public override string ToString() => $"{C}x{H}x{W} images, {F} {K}x{K} filters, hidden {Hidden}, {Classes} classes, {Count} image(s), seed {Seed}";
    }

    public static class NetCases
    {
        public static Arbitrary<NetCase> Net() => Arb.From(
            from k in Gen.Choose(1, 6)
            from h in Gen.Choose(k % 2 == 0 ? 3 : 2, 9)
            from w in Gen.Choose(k % 2 == 0 ? 3 : 2, 9)
            from c in Gen.Choose(1, 3)
            from f in Gen.Choose(1, 5)
            from hidden in Gen.Choose(1, 9)
            from classes in Gen.Choose(1, 6)
            from count in Gen.Choose(1, 3)
            from seed in Gen.Choose(0, 1000)
            select new NetCase(c, h, w, f, k, hidden, classes, count, seed),
            x => new[]
            {
                x with { K = x.K - 1 }, x with { H = x.H - 1 }, x with { W = x.W - 1 }, x with { C = x.C - 1 }, x with { F = x.F - 1 },
                x with { Hidden = x.Hidden - 1 }, x with { Classes = x.Classes - 1 }, x with { Count = x.Count - 1 },
            }.Where(v => v.IsValid));
    }

    /// <summary>
    /// Every checkpoint a ThreeLayerConvNet can write loads and predicts what that network computes: even filter
    /// sizes too (the loader assumed the convolution keeps H x W and refused them).
    /// </summary>
    [Property(Arbitrary = [typeof(NetCases)], MaxTest = 60)]
    public void Any_three_layer_checkpoint_predicts_the_networks_softmax(NetCase x)
    {
        var net = new ThreeLayerConvNet<float>(new FastKernels(), x.Options);
        Classifier c = Classifier.Load(Bytes(net.Parameters, $"{x.C}x{x.H}x{x.W}"), "net");
        Assert.Equal(x.Options with { WeightScale = 1e-3, Seed = 0 }, c.Options);
        float[] images = TestData.Floats(x.Seed + 1, x.Count * x.C * x.H * x.W), p = new float[x.Count * x.Classes];
        c.Predict(images, x.Count, p);
        AssertProbabilities(Expected(net, images, x.Count), p, x.Classes, x.ToString());
    }

    /// <summary>Parameters of a ThreeLayerConvNet checkpoint of any shape, filled with data (what a file can hold).</summary>
    private static Parameter<float>[] Parameters(int c, int f, int k, long pooled, int hidden, int classes)
    {
        Parameter<float>[] ps =
        [
            new("W1", [f, c, k, k], isWeight: true), new("b1", [f], isWeight: false),
            new("W2", [checked((int)pooled), hidden], isWeight: true), new("b2", [hidden], isWeight: false),
            new("W3", [hidden, classes], isWeight: true), new("b3", [classes], isWeight: false),
        ];
        foreach (Parameter<float> p in ps) TestData.Floats(p.Value.Length, p.Value.Length).CopyTo(p.Value, 0);
        return ps;
    }

    /// <summary>
    /// Well-formed checkpoints whose image C x H x W exceeds an int, in files of a few hundred kilobytes (many
    /// channels, a pooled plane that fits): InvalidDataException naming the source, not ArgumentOutOfRangeException.
    /// </summary>
    [Property(MaxTest = 12)]
    public void Images_larger_than_an_int_are_invalid_data_naming_the_source(PositiveInt rows, PositiveInt cols, NonNegativeInt extra, bool evenFilter)
    {
        int h = 128 + rows.Get % 200, w = 128 + cols.Get % 200, k = evenFilter ? 2 : 1;
        int channels = (int)(int.MaxValue / ((long)h * w) + 1 + extra.Get % 64);
        long pooled = (long)((h - k + 1 + 2 * ((k - 1) / 2)) / 2) * ((w - k + 1 + 2 * ((k - 1) / 2)) / 2);
        byte[] bytes = Bytes(Parameters(channels, 1, k, pooled, 1, 2), $"{channels}x{h}x{w}");
        var ex = Assert.Throws<InvalidDataException>(() => Classifier.Load(bytes, "huge.safetensors"));
        Assert.StartsWith("huge.safetensors: at offset 8: ", ex.Message);
        Assert.Contains($"{channels}x{h}x{w}", ex.Message);
    }

    /// <summary>Images too small for the filters and the pool (none is left to pool) are invalid data, not argument errors.</summary>
    [Theory]
    [InlineData(1, 1, 5, 1)] // odd filter: H stays 1, the 2x2 pool has no window
    [InlineData(2, 5, 2, 1)] // even filter: H 2 becomes 1
    [InlineData(1, 5, 4, 1)] // even filter on one row: larger than the padded image
    public void Images_too_small_for_the_network_are_invalid_data(int h, int w, int k, int pooled)
    {
        byte[] bytes = Bytes(Parameters(1, 1, k, pooled, 1, 2), $"1x{h}x{w}");
        Assert.StartsWith("small: at offset 8: ", Assert.Throws<InvalidDataException>(() => Classifier.Load(bytes, "small")).Message);
    }

    /// <summary>
    /// A batch larger than a slice (2048 filters on 2 x 2 images: 8192 floats per image, 2048 images per slice) runs
    /// in slices with each image's own bits. Slices are what keep a batch whose activations exceed an int working:
    /// 262,144 such images threw ArgumentOutOfRangeException for "n" before (run once by hand; it takes a minute
    /// here, too long for the suite).
    /// </summary>
    [Fact]
    public void A_batch_larger_than_a_slice_runs_in_slices_with_each_images_bits()
    {
        var options = new ConvNetOptions(1, 2, 2, Filters: 2048, FilterSize: 1, Hidden: 3, Classes: 2, WeightScale: null, Seed: 2);
        var net = new ThreeLayerConvNet<float>(new FastKernels(), options);
        Classifier c = Classifier.Load(Bytes(net.Parameters, "1x2x2"), "wide");
        Assert.Equal(Classifier.MaxSliceFloats / (2048 * 4), c.MaxSlice);
        int count = 2 * c.MaxSlice + 3;
        float[] images = TestData.Floats(3, count * 4), p = new float[count * 2], one = new float[2];
        c.Predict(images, count, p);
        foreach (int n in new[] { 0, c.MaxSlice - 1, c.MaxSlice, 2 * c.MaxSlice, count - 1 })
        {
            c.Predict(images.AsSpan(n * 4, 4), one);
            Assert.Equal(one, p.AsSpan(n * 2, 2).ToArray());
            AssertProbabilities(Expected(net, images[(n * 4)..(n * 4 + 4)], 1), one, 2, $"image {n}");
        }
    }
}
