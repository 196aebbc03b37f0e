using Kernels.Nn;

namespace Kernels.Tests.Convolution;

/// <summary>
/// Prepared filters give the same bits as the per-call path with the same algorithm, on any input the filters fit,
/// and a layer rebuilds them exactly when its weights change (their version).
/// </summary>
[Trait("Category", "Kernel")]
public class PreparedFiltersTests
{
    public static TheoryData<int, int, int, int, int, int, Conv2DAlgorithm> Cases => new()
    {
        { 2, 64, 20, 64, 3, 1, Conv2DAlgorithm.Auto },        // Winograd-transformed
        { 2, 64, 20, 64, 3, 1, Conv2DAlgorithm.Im2ColGemm },
        { 3, 3, 33, 25, 5, 2, Conv2DAlgorithm.Auto },         // packed: direct on wide inputs, im2col on narrow ones
        { 3, 3, 33, 25, 5, 2, Conv2DAlgorithm.Direct },
        { 1, 16, 9, 8, 3, 1, Conv2DAlgorithm.Winograd },
    };

    [Theory, MemberData(nameof(Cases))]
    public void Prepared_filters_match_the_per_call_path_bit_for_bit(int n, int c, int h, int f, int k, int pad, Conv2DAlgorithm algorithm)
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
            float[] x = TestData.Floats(3 + width, xs.Length), expected = new float[ys.Length];
            var actual = new Guarded(ys.Length);
            // Auto-prepared filters fix Winograd when the filters qualify, whatever the plane Choose would weigh.
            Conv2DAlgorithm run = algorithm != Conv2DAlgorithm.Auto ? algorithm : prepared.Winograd ? Conv2DAlgorithm.Winograd : Conv2D.Choose(xs, ws, p);
            Conv2D.Forward(new(x, xs), new(w, ws), b, p, new(expected, ys), 1, run);
            Conv2D.Forward(new(x, xs), prepared, new(actual.Span, ys), 2);
            actual.AssertIntact("y");
            FloatAssert.BitwiseEqual(expected, actual.ToArray(), $"{algorithm} (ran {run}) on width {width}");
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
