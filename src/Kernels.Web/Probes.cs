using System.Diagnostics;
using Kernels.Nn;
using Microsoft.JSInterop;

namespace Kernels.Web;

/// <summary>
/// Timings measured inside the browser, callable from JavaScript (<c>DotNet.invokeMethodAsync("Kernels.Web", ...)</c>)
/// so the Chromium tests can record how fast the interpreted kernels run. Each returns milliseconds per call, the
/// median of the given number of calls after one warm-up call.
/// </summary>
public static class Probes
{
    /// <summary>One n x n x n SGEMM on the fast kernels (<paramref name="reference"/>: on the oracle's triple loop).</summary>
    [JSInvokable]
    public static double Gemm(int n, bool reference, int calls)
    {
        float[] a = Filled(n * n, 1), b = Filled(n * n, 2), c = new float[n * n];
        return Median(calls, () =>
        {
            var ma = new CommunityToolkit.HighPerformance.ReadOnlySpan2D<float>(a, n, n);
            var mb = new CommunityToolkit.HighPerformance.ReadOnlySpan2D<float>(b, n, n);
            var mc = new CommunityToolkit.HighPerformance.Span2D<float>(c, n, n);
            if (reference) Kernels.Reference.Gemm.Multiply(MatrixTranspose.None, MatrixTranspose.None, 1f, ma, mb, 0f, mc);
            else Kernels.Gemm.Multiply(MatrixTranspose.None, MatrixTranspose.None, 1f, ma, mb, 0f, mc);
        });
    }

    /// <summary>
    /// One n x n x n product written two other ways, to compare formulations under the browser's interpreter with the
    /// library's packed GEMM: <paramref name="kind"/> 1 is a plain i-k-j loop over spans, 2 the same loop with
    /// Vector128 operations written out (no generic static-interface dispatch, no packing).
    /// </summary>
    [JSInvokable]
    public static double GemmFormulation(int n, int kind, int calls)
    {
        float[] a = Filled(n * n, 1), b = Filled(n * n, 2), c = new float[n * n];
        return Median(calls, () =>
        {
            Array.Clear(c);
            for (int i = 0; i < n; i++)
            {
                Span<float> row = c.AsSpan(i * n, n);
                for (int k = 0; k < n; k++)
                {
                    float aik = a[i * n + k];
                    ReadOnlySpan<float> brow = b.AsSpan(k * n, n);
                    int j = 0;
                    if (kind == 2)
                    {
                        var va = System.Runtime.Intrinsics.Vector128.Create(aik);
                        for (; j + 4 <= n; j += 4)
                            System.Runtime.Intrinsics.Vector128.StoreUnsafe(
                                System.Runtime.Intrinsics.Vector128.LoadUnsafe(ref row[j]) + va * System.Runtime.Intrinsics.Vector128.LoadUnsafe(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(brow[j..])),
                                ref row[j]);
                    }
                    for (; j < n; j++) row[j] += aik * brow[j];
                }
            }
        });
    }

    /// <summary>One convolution forward, x (n, c, h, h) with f filters of k x k, pad k / 2, Auto (<paramref name="reference"/>: the oracle).</summary>
    [JSInvokable]
    public static double Conv(int n, int c, int h, int f, int k, bool reference, int calls)
    {
        var xs = new Shape4(n, c, h, h);
        var ws = new Shape4(f, c, k, k);
        var p = new Conv2DParams(1, k / 2);
        Shape4 ys = Geometry.Conv2DOutput(xs, ws, f, p);
        float[] x = Filled((int)xs.Length, 3), w = Filled((int)ws.Length, 4), bias = new float[f], y = new float[ys.Length];
        return Median(calls, () =>
        {
            if (reference) Kernels.Reference.Conv2D.Forward<float>(new(x, xs), new(w, ws), bias, p, new(y, ys));
            else Kernels.Conv2D.Forward(new(x, xs), new(w, ws), bias, p, new(y, ys));
        });
    }

    /// <summary>One training step (loss, backward, Adam) of the page's ThreeLayerConvNet on a batch of 1x28x28 images.</summary>
    [JSInvokable]
    public static double TrainingStep(int batch, int calls)
    {
        var net = new ThreeLayerConvNet<float>(new FastKernels(), new ConvNetOptions(1, 28, 28, 16, 5, 128, 10, WeightScale: null, Seed: 1));
        var x = NchwTensor<float>.Wrap(Filled(batch * 784, 5), new Shape4(batch, 1, 28, 28));
        int[] labels = Enumerable.Range(0, batch).Select(i => i % 10).ToArray();
        var adam = new Adam<float>();
        return Median(calls, () =>
        {
            net.Loss(x, labels);
            adam.Step(net.Parameters);
        });
    }

    private static float[] Filled(int count, int seed)
    {
        var rng = new Random(seed);
        var a = new float[count];
        for (int i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() - 0.5);
        return a;
    }

    private static double Median(int calls, Action call)
    {
        call();
        var times = new double[Math.Max(1, calls)];
        for (int i = 0; i < times.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            call();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        return times[times.Length / 2];
    }
}
