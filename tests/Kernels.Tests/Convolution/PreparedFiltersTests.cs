using Kernels.Nn;
using Kernels.Simd;

namespace Kernels.Tests.Convolution;

/// <summary>
/// Prepared filters give the same bits as the per-call path with the same algorithm, on any input the filters fit,
/// and a layer rebuilds them exactly when its weights change (their version).
/// </summary>
[Trait("Category", "Kernel")]
public class PreparedFiltersTests
{
    /// <summary>
    /// Each case with the algorithm it must run on its own width h and on width 6, stated per SIMD width (one letter
    /// each for Vector512, Vector256, Vector128, scalar: W Winograd, D direct, I im2col + GEMM), from the measured
    /// crossovers documented in Conv2DAlgorithm.cs, not computed by them:
    /// <list type="bullet">
    /// <item>Winograd needs 3x3 stride-1 filters, 16 input channels and 64 output channels with AVX-512 (16 on the
    /// narrower widths); filters prepared for Auto keep Winograd on any plane then, small ones too.</item>
    /// <item>Otherwise direct once an output row fills half the microkernel's NR columns: 16 with AVX-512 (NR 32),
    /// 8 with AVX2 (NR 16), 4 with SSE (NR 8), 1 scalar (NR 2); im2col + GEMM below that.</item>
    /// </list>
    /// </summary>
    public static TheoryData<int, int, int, int, int, int, Conv2DAlgorithm, string> Cases => new()
    {
        { 2, 64, 20, 64, 3, 1, Conv2DAlgorithm.Auto, "WWWW/WWWW" },       // 64 filters, 64 channels: Winograd on every width
        { 2, 64, 20, 64, 3, 1, Conv2DAlgorithm.Im2ColGemm, "IIII/IIII" },
        { 2, 16, 20, 32, 3, 1, Conv2DAlgorithm.Auto, "DWWW/IWWW" },       // 32 filters: under AVX-512's 64, over the others' 16
        { 3, 3, 33, 25, 5, 2, Conv2DAlgorithm.Auto, "DDDD/IIDD" },        // 5x5: 33 columns fill every width, 6 only SSE's 4 and scalar
        { 3, 3, 33, 25, 5, 2, Conv2DAlgorithm.Direct, "DDDD/DDDD" },
        { 1, 3, 8, 16, 3, 1, Conv2DAlgorithm.Auto, "IDDD/IIDD" },         // 3 channels, no Winograd: 8 columns are AVX2's crossover
        { 1, 16, 9, 8, 3, 1, Conv2DAlgorithm.Winograd, "WWWW/WWWW" },
    };

    private static Conv2DAlgorithm Expected(string runs, bool wide)
    {
        int leg = Isa.Width switch { SimdWidth.Vector512 => 0, SimdWidth.Vector256 => 1, SimdWidth.Vector128 => 2, _ => 3 };
        return runs.Split('/')[wide ? 0 : 1][leg] switch
        {
            'W' => Conv2DAlgorithm.Winograd,
            'D' => Conv2DAlgorithm.Direct,
            'I' => Conv2DAlgorithm.Im2ColGemm,
            char other => throw new ArgumentException($"unknown algorithm letter {other} in {runs}", nameof(runs)),
        };
    }

    [Theory, MemberData(nameof(Cases))]
    public void Prepared_filters_run_the_stated_algorithm_and_match_the_per_call_path_bit_for_bit(int n, int c, int h, int f, int k, int pad,
        Conv2DAlgorithm algorithm, string runs)
    {
        var ws = new Shape4(f, c, k, k);
        var p = new Conv2DParams(1, pad);
        float[] w = TestData.Floats(1, ws.Length), b = TestData.Floats(2, f);
        PreparedConv2DFilters prepared = Conv2D.Prepare(new(w, ws), b, p, algorithm);
        Assert.Equal(algorithm, prepared.Algorithm);
        foreach (int width in new[] { h, 6 }) // the same prepared filters on a wide and a narrow input
        {
            var xs = new Shape4(n, c, h, width);
            Shape4 ys = Geometry.Conv2DOutput(xs, ws, f, p);
            Conv2DAlgorithm run = Expected(runs, wide: width == h);
            string what = $"{algorithm} on width {width} with {Isa.Width}";
            Assert.True((run == Conv2DAlgorithm.Winograd) == prepared.Winograd, $"{what}: expected {run}, prepared Winograd = {prepared.Winograd}");
            if (algorithm == Conv2DAlgorithm.Auto && run != Conv2DAlgorithm.Winograd) Assert.Equal(run, Conv2D.Choose(xs, ws, p));
            float[] x = TestData.Floats(3 + width, xs.Length), expected = new float[ys.Length];
            var actual = new Guarded(ys.Length);
            Conv2D.Forward(new(x, xs), new(w, ws), b, p, new(expected, ys), 1, run);
            Conv2D.Forward(new(x, xs), prepared, new(actual.Span, ys), 2);
            actual.AssertIntact("y");
            FloatAssert.BitwiseEqual(expected, actual.ToArray(), $"{what} (expected to run {run})");
        }
        // Later changes to the original arrays do not reach the prepared copy.
        var xs1 = new Shape4(1, c, h, h);
        float[] x1 = TestData.Floats(9, xs1.Length), before = new float[Geometry.Conv2DOutput(xs1, ws, f, p).Length], after = new float[before.Length];
        Conv2D.Forward(new(x1, xs1), prepared, new(before, Geometry.Conv2DOutput(xs1, ws, f, p)));
        w.AsSpan().Clear();
        Conv2D.Forward(new(x1, xs1), prepared, new(after, Geometry.Conv2DOutput(xs1, ws, f, p)));
        FloatAssert.BitwiseEqual(before, after, "after clearing the original filters");
    }

    [Fact]
    public void Wrong_inputs_for_prepared_filters_are_refused_before_writing()
    {
        PreparedConv2DFilters prepared = Conv2D.Prepare(new(new float[4 * 3 * 9], 4, 3, 3, 3), new float[4], new Conv2DParams(1, 1));
        float[] y = Enumerable.Repeat(7f, 4 * 8 * 8).ToArray();
        var ex = Assert.Throws<ArgumentException>(() => Conv2D.Forward(new(new float[2 * 8 * 8], 1, 2, 8, 8), prepared, new(y, 1, 4, 8, 8)));
        Assert.Contains("has 3 input channels but x has 2", ex.Message);
        Assert.All(y, v => Assert.Equal(7f, v));
        Assert.Throws<ArgumentException>(() => Conv2D.Prepare(new(new float[4 * 3 * 9], 4, 3, 3, 3), new float[3], new Conv2DParams(1, 1)));
        Assert.Throws<ArgumentException>(() => Conv2D.Prepare(new(new float[4 * 3 * 25], 4, 3, 5, 5), new float[4], new Conv2DParams(1, 1), Conv2DAlgorithm.Winograd));
    }

    [Fact]
    public void A_layer_rebuilds_its_prepared_filters_when_the_weights_change()
    {
        var layer = new Conv2DLayer<float>(new FastKernels(), "W", 16, 64, 3, 3, new Conv2DParams(1, 1), new Random(1), 0.1);
        var x = NchwTensor<float>.Wrap(TestData.Floats(5, 2 * 16 * 10 * 10), new Shape4(2, 16, 10, 10));
        float[] first = layer.Forward(x).Span.ToArray();
        layer.W.Value[7] += 1f;
        float[] stale = layer.Forward(x).Span.ToArray();          // not marked: the cached form is still used
        layer.W.MarkChanged();
        float[] fresh = layer.Forward(x).Span.ToArray();
        FloatAssert.BitwiseEqual(first, stale, "before MarkChanged");
        var expected = new float[fresh.Length];
        Conv2D.Forward(x.ReadOnlyView, new(layer.W.Value, layer.FilterShape), layer.B.Value, layer.Params, new(expected, Geometry.Conv2DOutput(x.Shape, layer.FilterShape, 64, layer.Params)));
        FloatAssert.BitwiseEqual(expected, fresh, "after MarkChanged");
        new Adam<float>().Step(layer.Parameters);                 // update rules mark their parameters
        float[] stepped = layer.Forward(x).Span.ToArray();
        Conv2D.Forward(x.ReadOnlyView, new(layer.W.Value, layer.FilterShape), layer.B.Value, layer.Params, new(expected, Geometry.Conv2DOutput(x.Shape, layer.FilterShape, 64, layer.Params)));
        FloatAssert.BitwiseEqual(expected, stepped, "after an update step");
        // A larger plane: Auto picks Winograd there, and the layer prepares that form instead.
        var large = NchwTensor<float>.Wrap(TestData.Floats(6, 2 * 16 * 20 * 20), new Shape4(2, 16, 20, 20));
        Assert.Equal(Conv2DAlgorithm.Winograd, Conv2D.Choose(large.Shape, layer.FilterShape, layer.Params));
        float[] winograd = layer.Forward(large).Span.ToArray(), expectedLarge = new float[winograd.Length];
        Conv2D.Forward(large.ReadOnlyView, new(layer.W.Value, layer.FilterShape), layer.B.Value, layer.Params,
            new(expectedLarge, Geometry.Conv2DOutput(large.Shape, layer.FilterShape, 64, layer.Params)));
        FloatAssert.BitwiseEqual(expectedLarge, winograd, "on a plane Auto gives to Winograd");
    }
}
