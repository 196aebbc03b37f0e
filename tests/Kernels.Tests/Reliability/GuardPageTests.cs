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
    public static Arbitrary<Convolution.ParamsCase> Params() => Convolution.ParamsArbitraries.Params();
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

    /// <summary>Every algorithm that applies to the case (Winograd, Direct when their geometry allows).</summary>
    public static IEnumerable<Conv2DAlgorithm> Algorithms(ConvCase k) => Convolution.Conv2DTests.SumRuleAlgorithms(k)
        .Concat(Kernels.Convolution.Winograd.Supports(k.Filter, k.P) ? [Conv2DAlgorithm.Winograd] : []);

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
    public void Conv_forward_and_backward_stay_inside_their_spans(ConvCase k, Placement at) => ConvStaysInside(k, Algorithms(k), at);

    /// <summary>Forward and backward of every given algorithm at degrees 1 and 2 with each span against a guard page.</summary>
    private static void ConvStaysInside(IConvProblem k, IEnumerable<Conv2DAlgorithm> algorithms, Placement at)
    {
        foreach (Conv2DAlgorithm algorithm in algorithms)
        foreach (int d in new[] { 1, 2 })
        {
            using GuardPage x = G(k.X.Length, at, k.Seed), w = G(k.Filter.Length, at, k.Seed + 1), b = G(k.F, at, k.Seed + 2), y = G(k.Y.Length, at, 0);
            Conv2D.Forward(new ReadOnlyNchwSpan<float>(x.Span, k.X), new ReadOnlyNchwSpan<float>(w.Span, k.Filter), b.Span, k.P, new NchwSpan<float>(y.Span, k.Y), d, algorithm);
            using GuardPage dx = G(k.X.Length, at, 0), dw = G(k.Filter.Length, at, 0), db = G(k.F, at, 0);
            Conv2D.Backward(new ReadOnlyNchwSpan<float>(y.Span, k.Y), new ReadOnlyNchwSpan<float>(x.Span, k.X), new ReadOnlyNchwSpan<float>(w.Span, k.Filter), k.P,
                new NchwSpan<float>(dx.Span, k.X), new NchwSpan<float>(dw.Span, k.Filter), db.Span, d, algorithm);
            Assert.True(float.IsFinite(db.Span[0]));
        }
    }

    /// <summary>Groups, dilation, per-axis stride, asymmetric padding and depthwise, on every algorithm that applies.</summary>
    [GuardProperty]
    public void Conv_with_groups_and_dilation_stays_inside_its_spans(Convolution.ParamsCase k, Placement at) =>
        ConvStaysInside(k, Convolution.ConvParamsTests.Algorithms(k), at);

    [GuardProperty]
    public void Pooling_stays_inside_its_spans(PoolCase k, Placement at)
    {
        foreach (int d in new[] { 1, 2 })
        {
            using GuardPage x = G(k.X.Length, at, k.Seed), y = G(k.Y.Length, at, 0), dx = G(k.X.Length, at, 0);
            MaxPool2D.Forward(new ReadOnlyNchwSpan<float>(x.Span, k.X), k.P, new NchwSpan<float>(y.Span, k.Y), d);
            MaxPool2D.Backward(new ReadOnlyNchwSpan<float>(y.Span, k.Y), new ReadOnlyNchwSpan<float>(x.Span, k.X), k.P, new NchwSpan<float>(dx.Span, k.X), d);
            AvgPool2D.Forward(new ReadOnlyNchwSpan<float>(x.Span, k.X), k.P, new NchwSpan<float>(y.Span, k.Y), d);
            AvgPool2D.Backward(new ReadOnlyNchwSpan<float>(y.Span, k.Y), k.X, k.P, new NchwSpan<float>(dx.Span, k.X), d);
            Assert.True(float.IsFinite(dx.Span[0]));
        }
    }

    [GuardProperty]
    public void Relu_affine_and_losses_stay_inside_their_spans(MatCase k, Placement at)
    {
        int n = k.N, d = k.D, m = k.M;
        foreach (int t in new[] { 1, 2 })
        {
            using GuardPage x = G(n * d, at, k.Seed), y = G(n * d, at, 0), dx = G(n * d, at, 0);
            Relu.Forward(x.Span, y.Span, t);
            Relu.Forward(y.Span, y.Span, t);
            Relu.Backward(x.Span, y.Span, dx.Span, t);
            using GuardPage w = G(d * m, at, k.Seed + 1), b = G(m, at, k.Seed + 2), o = G(n * m, at, 0), dw = G(d * m, at, 0), db = G(m, at, 0);
            Affine.Forward(x.Span.AsSpan2D(n, d), w.Span.AsSpan2D(d, m), b.Span, o.Span.AsSpan2D(n, m), t);
            Affine.Backward(o.Span.AsSpan2D(n, m), x.Span.AsSpan2D(n, d), w.Span.AsSpan2D(d, m), dx.Span.AsSpan2D(n, d), dw.Span.AsSpan2D(d, m), db.Span, t);
            using GuardPage ds = G(n * m, at, 0), tg = G(n * m, at, k.Seed + 3);
            int[] y0 = TestData.Labels(k.Seed, n, m);
            float l1 = Kernels.Losses.Softmax(o.Span.AsSpan2D(n, m), y0, ds.Span.AsSpan2D(n, m), t);
            float l2 = Kernels.Losses.Svm(o.Span.AsSpan2D(n, m), y0, ds.Span.AsSpan2D(n, m), t);
            float l3 = Kernels.Losses.MeanSquaredError(o.Span.AsSpan2D(n, m), tg.Span.AsSpan2D(n, m), ds.Span.AsSpan2D(n, m), t);
            Assert.True(float.IsFinite(l1) && float.IsFinite(l2) && float.IsFinite(l3));
        }
    }

    [Theory]
    [InlineData(Placement.AtEnd)]
    [InlineData(Placement.AtStart)]
    public void Large_elementwise_and_pool_calls_split_between_threads_stay_inside_their_spans(Placement at)
    {
        // Long enough for the work to be split (64K elements per thread, 32K per pool thread), with lengths off
        // the 64-float blocks so the last thread's range ends mid-block.
        const int n = (1 << 18) + 37;
        using GuardPage x = G(n, at, 1), y = G(n, at, 0), dx = G(n, at, 0);
        Relu.Forward(x.Span, y.Span, 4);
        Relu.Forward(y.Span, y.Span, 4);
        Relu.Backward(x.Span, y.Span, dx.Span, 4);
        Relu.Backward(x.Span, dx.Span, dx.Span, 4);
        var ps = new Shape4(3, 5, 67, 131);
        var ys = new Shape4(3, 5, 33, 65);
        using GuardPage px = G(ps.Length, at, 2), py = G(ys.Length, at, 0), pdx = G(ps.Length, at, 0);
        MaxPool2D.Forward(new ReadOnlyNchwSpan<float>(px.Span, ps), new Pool2DParams(), new NchwSpan<float>(py.Span, ys), 4);
        MaxPool2D.Backward(new ReadOnlyNchwSpan<float>(py.Span, ys), new ReadOnlyNchwSpan<float>(px.Span, ps), new Pool2DParams(), new NchwSpan<float>(pdx.Span, ps), 4);
        Assert.True(float.IsFinite(dx.Span[n - 1]) && float.IsFinite(pdx.Span[0]));
    }
}

/// <summary>Runs alone: the scratch guard is a process-wide switch that would slow every test running beside it.</summary>
[CollectionDefinition(nameof(ScratchGuardCollection), DisableParallelization = true)]
public sealed class ScratchGuardCollection;

/// <summary>
/// The library's own scratch (packed panels, im2col columns, the padded image, transposed blocks) under guard pages:
/// with <see cref="Scratch.Guard"/> set, every buffer the kernels take ends (or starts) at a no-access page and is
/// unmapped when its role is taken again, so an overrun of the library's own buffers, or a use after the role moved
/// on, faults just as an overrun of the caller's spans does in <see cref="GuardPageTests"/>.
/// </summary>
[Collection(nameof(ScratchGuardCollection))]
[Trait("Category", "Kernel")]
public class ScratchGuardTests
{
    private static T Guarded<T>(Placement at, Func<T> run)
    {
        Scratch.Guard = at == Placement.AtEnd ? Scratch.GuardPlacement.AtEnd : Scratch.GuardPlacement.AtStart;
        try { return run(); }
        finally { Scratch.Guard = Scratch.GuardPlacement.None; }
    }

    [GuardProperty]
    public void Conv_stays_inside_its_scratch(ConvCase k, Placement at) => ConvStaysInsideScratch(k, GuardPageTests.Algorithms(k), at);

    /// <summary>Groups, dilation, per-axis stride, asymmetric padding and depthwise, on every algorithm that applies.</summary>
    [GuardProperty]
    public void Conv_with_groups_and_dilation_stays_inside_its_scratch(Convolution.ParamsCase k, Placement at) =>
        ConvStaysInsideScratch(k, Convolution.ConvParamsTests.Algorithms(k), at);

    /// <summary>Every given algorithm, forward and backward, with its scratch against guard pages: the same bits as unguarded.</summary>
    private static void ConvStaysInsideScratch(IConvProblem k, IEnumerable<Conv2DAlgorithm> algorithms, Placement at)
    {
        float[] x = TestData.Floats(k.Seed, k.X.Length), w = TestData.Floats(k.Seed + 1, k.Filter.Length), b = TestData.Floats(k.Seed + 2, k.F);
        float[] dout = TestData.Floats(k.Seed + 3, k.Y.Length);
        foreach (Conv2DAlgorithm algorithm in algorithms)
        {
            float[][] plain = Run(1, algorithm);
            foreach (int degree in new[] { 1, 2 })
            {
                float[][] guarded = Guarded(at, () => Run(degree, algorithm));
                for (int i = 0; i < plain.Length; i++) FloatAssert.BitwiseEqual(plain[i], guarded[i], $"output {i} ({algorithm}) at degree {degree}");
            }
        }

        float[][] Run(int degree, Conv2DAlgorithm algorithm)
        {
            float[] y = new float[k.Y.Length], dx = new float[k.X.Length], dw = new float[k.Filter.Length], db = new float[k.F];
            Conv2D.Forward(new(x, k.X), new(w, k.Filter), b, k.P, new(y, k.Y), degree, algorithm);
            Conv2D.Backward(new(dout, k.Y), new(x, k.X), new(w, k.Filter), k.P, new(dx, k.X), new(dw, k.Filter), db, degree, algorithm);
            return [y, dx, dw, db];
        }
    }

    [GuardProperty]
    public void Gemm_stays_inside_its_scratch(GemmCase g, Placement at)
    {
        int aRows = g.TransA ? g.K : g.M, aCols = g.TransA ? g.M : g.K, bRows = g.TransB ? g.N : g.K, bCols = g.TransB ? g.K : g.N;
        float[] a = TestData.Floats(g.Seed, aRows * aCols), b = TestData.Floats(g.Seed + 1, bRows * bCols);
        float[] plain = Run(1);
        foreach (int degree in new[] { 1, 2 }) FloatAssert.BitwiseEqual(plain, Guarded(at, () => Run(degree)), $"C at degree {degree}");

        float[] Run(int degree)
        {
            var c = new float[g.M * g.N];
            Kernels.Gemm.Multiply(g.TransA ? MatrixTranspose.Transpose : MatrixTranspose.None, g.TransB ? MatrixTranspose.Transpose : MatrixTranspose.None,
                g.Alpha, new ReadOnlySpan2D<float>(a, aRows, aCols), new ReadOnlySpan2D<float>(b, bRows, bCols), 0f, new Span2D<float>(c, g.M, g.N), degree);
            return c;
        }
    }

    [Fact]
    public void The_guard_switch_really_guards_the_scratch()
    {
        // A read one float past a guarded buffer must fault: checked in a child process so the fault ends only it.
        ChildProcess.Result r = ChildProcess.Run(["scratch-overrun"]);
        Assert.True(r.ExitCode != 0 && !r.Output.Contains("survived"), r.ToString());
        Assert.Contains("reading past the buffer", r.Output);
    }
}
