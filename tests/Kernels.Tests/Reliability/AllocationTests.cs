using CommunityToolkit.HighPerformance;
using Kernels.Nn;
using Kernels.Threading;

namespace Kernels.Tests.Reliability;

/// <summary>Runs alone, so that process-wide allocation counts see only the kernels under test.</summary>
[CollectionDefinition(nameof(AllocationCollection), DisableParallelization = true)]
public sealed class AllocationCollection;

/// <summary>
/// Steady state allocates nothing, at any degree of parallelism: after warm-up, calls of every kernel at degree 1,
/// 2 and -1 add no bytes on the calling thread and none on the runtime's worker threads.
/// </summary>
[Collection(nameof(AllocationCollection))]
[Trait("Category", "Kernel")]
public class AllocationTests
{
    public static TheoryData<string> KernelNames => new(Calls().Keys);

    private static Dictionary<string, Action<int>> Calls()
    {
        var cs = new ConvCase(4, 8, 20, 20, 16, 3, 3, 1, 1, 1);
        float[] x = TestData.Floats(1, cs.X.Length), w = TestData.Floats(2, cs.Filter.Length), b = TestData.Floats(3, cs.F);
        float[] y = new float[cs.Y.Length], dx = new float[x.Length], dw = new float[w.Length], db = new float[cs.F];
        var one = new ConvCase(1, 16, 40, 40, 8, 3, 3, 2, 1, 1); // one image shared by chunks, padded copy
        float[] ox = TestData.Floats(4, one.X.Length), ow = TestData.Floats(5, one.Filter.Length), oy = new float[one.Y.Length], odx = new float[ox.Length];
        float[] odw = new float[ow.Length], odb = new float[one.F];
        float[] ga = TestData.Floats(6, 200 * 300), gb = TestData.Floats(7, 300 * 250), gc = new float[200 * 250];
        var ps = new Shape4(8, 8, 64, 64);
        var pys = new Shape4(8, 8, 32, 32);
        float[] px = TestData.Floats(8, ps.Length), py = new float[pys.Length], pdx = new float[ps.Length];
        float[] r = TestData.Floats(9, 1 << 19), ry = new float[r.Length];
        float[] s = TestData.Floats(10, 4000 * 10), ds = new float[s.Length];
        int[] labels = TestData.Labels(11, 4000, 10);
        float[] aw = TestData.Floats(12, 300 * 40), ab = new float[40], ay = new float[200 * 40], adx = new float[200 * 300], adw = new float[300 * 40], adb = new float[40];
        var model = new ThreeLayerConvNet<float>(new FastKernels(-1), new ConvNetOptions(1, 16, 16, 8, 3, 64, 10, WeightScale: null, Reg: 1e-3));
        var batch = NchwTensor<float>.Create(new Shape4(16, 1, 16, 16));
        TestData.Floats(13, batch.Span.Length).CopyTo(batch.Span);
        int[] batchLabels = TestData.Labels(14, 16, 10);
        var adam = new Adam<float>();
        PreparedConv2DFilters prepared = Conv2D.Prepare(new(w, cs.Filter), b, cs.P);
        // MobileNet's depthwise 3x3 stride 2 (multiplier 2) and a ResNeXt-like grouped 3x3 with dilation 2.
        var dws = new Convolution.ParamsCase(2, 16, 1, 2, 28, 28, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1);
        var grs = new Convolution.ParamsCase(2, 8, 4, 4, 14, 14, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1);
        float[] qx = TestData.Floats(15, grs.X.Length), qw = TestData.Floats(16, grs.Filter.Length), qb = TestData.Floats(17, grs.F);
        float[] qy = new float[grs.Y.Length], qdx = new float[qx.Length], qdw = new float[qw.Length], qdb = new float[grs.F];
        float[] vx = TestData.Floats(18, dws.X.Length), vw = TestData.Floats(19, dws.Filter.Length), vb = TestData.Floats(20, dws.F);
        float[] vy = new float[dws.Y.Length], vdx = new float[vx.Length], vdw = new float[vw.Length], vdb = new float[dws.F];
        return new()
        {
            ["conv forward"] = d => Conv2D.Forward(new(x, cs.X), new(w, cs.Filter), b, cs.P, new(y, cs.Y), d, Conv2DAlgorithm.Im2ColGemm),
            ["conv winograd"] = d =>
            {
                Conv2D.Forward(new(x, cs.X), new(w, cs.Filter), b, cs.P, new(y, cs.Y), d, Conv2DAlgorithm.Winograd);
                Conv2D.Backward(new(y, cs.Y), new(x, cs.X), new(w, cs.Filter), cs.P, new(dx, cs.X), new(dw, cs.Filter), db, d, Conv2DAlgorithm.Winograd);
            },
            ["conv direct"] = d => Conv2D.Forward(new(x, cs.X), new(w, cs.Filter), b, cs.P, new(y, cs.Y), d, Conv2DAlgorithm.Direct),
            ["conv prepared"] = d => Conv2D.Forward(new(x, cs.X), prepared, new(y, cs.Y), d),
            ["conv backward"] = d => Conv2D.Backward(new(y, cs.Y), new(x, cs.X), new(w, cs.Filter), cs.P, new(dx, cs.X), new(dw, cs.Filter), db, d),
            ["conv depthwise"] = d =>
            {
                Conv2D.Forward(new(vx, dws.X), new(vw, dws.Filter), vb, dws.P, new(vy, dws.Y), d);
                Conv2D.Backward(new(vy, dws.Y), new(vx, dws.X), new(vw, dws.Filter), dws.P, new(vdx, dws.X), new(vdw, dws.Filter), vdb, d);
            },
            ["conv grouped dilated"] = d =>
            {
                Conv2D.Forward(new(qx, grs.X), new(qw, grs.Filter), qb, grs.P, new(qy, grs.Y), d);
                Conv2D.Backward(new(qy, grs.Y), new(qx, grs.X), new(qw, grs.Filter), grs.P, new(qdx, grs.X), new(qdw, grs.Filter), qdb, d);
            },
            ["conv one image"] = d =>
            {
                Conv2D.Forward(new(ox, one.X), new(ow, one.Filter), odb, one.P, new(oy, one.Y), d);
                Conv2D.Backward(new(oy, one.Y), new(ox, one.X), new(ow, one.Filter), one.P, new(odx, one.X), new(odw, one.Filter), odb, d);
            },
            ["gemm"] = d => Kernels.Gemm.Multiply(MatrixTranspose.None, MatrixTranspose.Transpose, 1f, new ReadOnlySpan2D<float>(ga, 200, 300),
                new ReadOnlySpan2D<float>(gb, 250, 300), 0f, new Span2D<float>(gc, 200, 250), d),
            ["max pool"] = d =>
            {
                MaxPool2D.Forward(new(px, ps), new Pool2DParams(), new(py, pys), d);
                MaxPool2D.Backward(new(py, pys), new(px, ps), new Pool2DParams(), new(pdx, ps), d);
            },
            ["avg pool"] = d =>
            {
                AvgPool2D.Forward(new(px, ps), new Pool2DParams(), new(py, pys), d);
                AvgPool2D.Backward(new(py, pys), ps, new Pool2DParams(), new(pdx, ps), d);
            },
            ["relu"] = d =>
            {
                Relu.Forward(r, ry, d);
                Relu.Backward(r, ry, ry, d);
            },
            ["losses"] = d =>
            {
                Kernels.Losses.Softmax(new ReadOnlySpan2D<float>(s, 4000, 10), labels, new Span2D<float>(ds, 4000, 10), d);
                Kernels.Losses.Svm(new ReadOnlySpan2D<float>(s, 4000, 10), labels, new Span2D<float>(ds, 4000, 10), d);
                Kernels.Losses.MeanSquaredError(new ReadOnlySpan2D<float>(s, 4000, 10), new ReadOnlySpan2D<float>(r, 0, 4000, 10, 0), new Span2D<float>(ds, 4000, 10), d);
            },
            ["affine"] = d =>
            {
                Affine.Forward(new ReadOnlySpan2D<float>(ga, 200, 300), new ReadOnlySpan2D<float>(aw, 300, 40), ab, new Span2D<float>(ay, 200, 40), d);
                Affine.Backward(new ReadOnlySpan2D<float>(ay, 200, 40), new ReadOnlySpan2D<float>(ga, 200, 300), new ReadOnlySpan2D<float>(aw, 300, 40),
                    new Span2D<float>(adx, 200, 300), new Span2D<float>(adw, 300, 40), adb, d);
            },
            ["training step (model at -1, rule at d)"] = d =>
            {
                model.Loss(batch, batchLabels);
                adam.Step(model.Parameters, d);
            },
        };
    }

    [Theory, MemberData(nameof(KernelNames))]
    public void Steady_state_calls_allocate_nothing_at_any_degree(string kernel)
    {
        Action<int> call = Calls()[kernel];
        foreach (int degree in new[] { 1, 2, -1 })
        {
            long fewest = FewestBytes(() => call(degree));
            Assert.True(fewest == 0, $"{kernel} at degree {degree}: at least {fewest} bytes on the caller and the workers in every window of 10 calls");
        }
    }

    /// <summary>
    /// Bytes allocated by <paramref name="call"/> in its cleanest window of ten calls after three warm-up calls (scratch
    /// grows), on the calling thread and on every worker of the fork-join runtime. The runtime itself allocates now
    /// and then (a few KB while tiered compilation moves a method up a tier), so of up to eight windows at least one
    /// must be clean; a kernel that allocates per call dirties every window. (Process-wide counts would also see the
    /// runtime's own background threads.)
    /// </summary>
    public static long FewestBytes(Action call)
    {
        for (int i = 0; i < 3; i++) call();
        long fewest = long.MaxValue;
        for (int window = 0; window < 8 && fewest != 0; window++)
        {
            long thread = GC.GetAllocatedBytesForCurrentThread(), workers = ForkJoin.AllocatedBytesOnWorkers;
            for (int i = 0; i < 10; i++) call();
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - thread + ForkJoin.AllocatedBytesOnWorkers - workers);
        }
        return fewest;
    }
}
