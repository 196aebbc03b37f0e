using CommunityToolkit.HighPerformance;
using FsCheck;
using FsCheck.Fluent;
using Kernels.Tests.Gemm;
using static Kernels.Tests.Reliability.GuardPage;

namespace Kernels.Tests.Reliability;

public static class GuardArbitraries
{
    public static Arbitrary<Placement> Placement() => Arb.From(Gen.Elements(GuardPage.Placement.AtEnd, GuardPage.Placement.AtStart));
    public static Arbitrary<GemmCase> Gemm() => GemmArbitraries.Gemm();
    public static Arbitrary<ConvCase> Conv() => Convolution.ConvArbitraries.Conv();
    public static Arbitrary<PoolCase> Pool() => Pooling.PoolArbitraries.Pool();
    public static Arbitrary<MatCase> Mat() => DenseArbitraries.Mat();
}

public sealed class GuardPropertyAttribute : FsCheck.Xunit.PropertyAttribute
{
    public GuardPropertyAttribute()
    {
        Arbitrary = [typeof(GuardArbitraries)];
        MaxTest = 60;
    }
}

/// <summary>
/// Every fast kernel with each input and output against a no-access page (after its end, or before its start):
/// a stray access past a span ends the test run with a segmentation fault.
/// </summary>
[Trait("Category", "Kernel")]
public class GuardPageTests
{
    private static GuardPage G(int n, Placement at, int seed) => From(TestData.Floats(seed, n), at);

    [GuardProperty]
    public void Gemm_stays_inside_its_spans(GemmCase g, Placement at)
    {
        int aRows = g.TransA ? g.K : g.M, aCols = g.TransA ? g.M : g.K, bRows = g.TransB ? g.N : g.K, bCols = g.TransB ? g.K : g.N;
        // A view with a pitch ends at its last element, not at the end of a full last row.
        int aLen = (aRows - 1) * (aCols + g.PitchA) + aCols, bLen = (bRows - 1) * (bCols + g.PitchB) + bCols, cLen = (g.M - 1) * (g.N + g.PitchC) + g.N;
        using GuardPage a = G(aLen, at, g.Seed), b = G(bLen, at, g.Seed + 1), c = G(cLen, at, g.Seed + 2);
        Kernels.Gemm.Multiply(g.TransA ? MatrixTranspose.Transpose : MatrixTranspose.None, g.TransB ? MatrixTranspose.Transpose : MatrixTranspose.None, g.Alpha,
            a.Span.AsSpan2D(0, aRows, aCols, g.PitchA), b.Span.AsSpan2D(0, bRows, bCols, g.PitchB), g.Beta, c.Span.AsSpan2D(0, g.M, g.N, g.PitchC), 2);
        Assert.True(float.IsFinite(c.Span[0]));
    }

    [GuardProperty]
    public void Conv_forward_and_backward_stay_inside_their_spans(ConvCase k, Placement at)
    {
        using GuardPage x = G(k.X.Length, at, k.Seed), w = G(k.Filter.Length, at, k.Seed + 1), b = G(k.F, at, k.Seed + 2), y = G(k.Y.Length, at, 0);
        Conv2D.Forward(new ReadOnlyNchwSpan<float>(x.Span, k.X), new ReadOnlyNchwSpan<float>(w.Span, k.Filter), b.Span, k.P, new NchwSpan<float>(y.Span, k.Y));
        using GuardPage dx = G(k.X.Length, at, 0), dw = G(k.Filter.Length, at, 0), db = G(k.F, at, 0);
        Conv2D.Backward(new ReadOnlyNchwSpan<float>(y.Span, k.Y), new ReadOnlyNchwSpan<float>(x.Span, k.X), new ReadOnlyNchwSpan<float>(w.Span, k.Filter), k.P,
            new NchwSpan<float>(dx.Span, k.X), new NchwSpan<float>(dw.Span, k.Filter), db.Span, 2);
        Assert.True(float.IsFinite(db.Span[0]));
    }

    [GuardProperty]
    public void Pooling_stays_inside_its_spans(PoolCase k, Placement at)
    {
        using GuardPage x = G(k.X.Length, at, k.Seed), y = G(k.Y.Length, at, 0), dx = G(k.X.Length, at, 0);
        MaxPool2D.Forward(new ReadOnlyNchwSpan<float>(x.Span, k.X), k.P, new NchwSpan<float>(y.Span, k.Y));
        MaxPool2D.Backward(new ReadOnlyNchwSpan<float>(y.Span, k.Y), new ReadOnlyNchwSpan<float>(x.Span, k.X), k.P, new NchwSpan<float>(dx.Span, k.X));
        AvgPool2D.Forward(new ReadOnlyNchwSpan<float>(x.Span, k.X), k.P, new NchwSpan<float>(y.Span, k.Y));
        AvgPool2D.Backward(new ReadOnlyNchwSpan<float>(y.Span, k.Y), k.X, k.P, new NchwSpan<float>(dx.Span, k.X));
        Assert.True(float.IsFinite(dx.Span[0]));
    }

    [GuardProperty]
    public void Relu_affine_and_losses_stay_inside_their_spans(MatCase k, Placement at)
    {
        int n = k.N, d = k.D, m = k.M;
        using GuardPage x = G(n * d, at, k.Seed), y = G(n * d, at, 0), dx = G(n * d, at, 0);
        Relu.Forward(x.Span, y.Span);
        Relu.Forward(y.Span, y.Span);
        Relu.Backward(x.Span, y.Span, dx.Span);
        using GuardPage w = G(d * m, at, k.Seed + 1), b = G(m, at, k.Seed + 2), o = G(n * m, at, 0), dw = G(d * m, at, 0), db = G(m, at, 0);
        Affine.Forward(x.Span.AsSpan2D(n, d), w.Span.AsSpan2D(d, m), b.Span, o.Span.AsSpan2D(n, m));
        Affine.Backward(o.Span.AsSpan2D(n, m), x.Span.AsSpan2D(n, d), w.Span.AsSpan2D(d, m), dx.Span.AsSpan2D(n, d), dw.Span.AsSpan2D(d, m), db.Span);
        using GuardPage ds = G(n * m, at, 0), t = G(n * m, at, k.Seed + 3);
        int[] y0 = TestData.Labels(k.Seed, n, m);
        float l1 = Kernels.Losses.Softmax(o.Span.AsSpan2D(n, m), y0, ds.Span.AsSpan2D(n, m));
        float l2 = Kernels.Losses.Svm(o.Span.AsSpan2D(n, m), y0, ds.Span.AsSpan2D(n, m));
        float l3 = Kernels.Losses.MeanSquaredError(o.Span.AsSpan2D(n, m), t.Span.AsSpan2D(n, m), ds.Span.AsSpan2D(n, m));
        Assert.True(float.IsFinite(l1) && float.IsFinite(l2) && float.IsFinite(l3));
    }
}
