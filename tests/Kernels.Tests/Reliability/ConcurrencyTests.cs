using CommunityToolkit.HighPerformance;

namespace Kernels.Tests.Reliability;

/// <summary>
/// Eight threads call every kernel at once, on different shapes and degrees of parallelism, for a bounded time;
/// every result must equal the single-threaded result bit for bit (pools and caches are shared between them).
/// </summary>
[Trait("Category", "Kernel")]
public class ConcurrencyTests
{
    private sealed record Job(string Name, Func<int, float[]> Run);

    private static Job[] Jobs()
    {
        var conv = new ConvCase(3, 5, 13, 11, 7, 3, 3, 1, 1, 1);
        var conv2 = new ConvCase(2, 3, 17, 17, 4, 5, 3, 2, 2, 2);
        float[] cx = TestData.Floats(1, conv.X.Length), cw = TestData.Floats(2, conv.Filter.Length), cb = TestData.Floats(3, conv.F), cd = TestData.Floats(4, conv.Y.Length);
        float[] c2x = TestData.Floats(5, conv2.X.Length), c2w = TestData.Floats(6, conv2.Filter.Length), c2b = TestData.Floats(7, conv2.F);
        float[] ga = TestData.Floats(8, 70 * 90), gb = TestData.Floats(9, 90 * 50);
        var pool = new Shape4(2, 3, 33, 35);
        float[] px = TestData.Floats(10, pool.Length), rx = TestData.Floats(11, 1000);
        float[] s = TestData.Floats(12, 20 * 13);
        int[] labels = TestData.Labels(13, 20, 13);
        return
        [
            new("conv forward", d => { var y = new float[conv.Y.Length]; Conv2D.Forward(new(cx, conv.X), new(cw, conv.Filter), cb, conv.P, new(y, conv.Y), d); return y; }),
            new("conv backward", d =>
            {
                float[] dx = new float[cx.Length], dw = new float[cw.Length], db = new float[cb.Length];
                Conv2D.Backward(new(cd, conv.Y), new(cx, conv.X), new(cw, conv.Filter), conv.P, new(dx, conv.X), new(dw, conv.Filter), db, d);
                return [.. dx, .. dw, .. db];
            }),
            new("conv forward 2", d => { var y = new float[conv2.Y.Length]; Conv2D.Forward(new(c2x, conv2.X), new(c2w, conv2.Filter), c2b, conv2.P, new(y, conv2.Y), d); return y; }),
            new("gemm", d =>
            {
                var c = new float[70 * 50];
                Kernels.Gemm.Multiply(MatrixTranspose.None, MatrixTranspose.None, 1f, new ReadOnlySpan2D<float>(ga, 70, 90), new ReadOnlySpan2D<float>(gb, 90, 50), 0f, new Span2D<float>(c, 70, 50), d);
                return c;
            }),
            new("max pool", d =>
            {
                var p = new Pool2DParams(3, 3, 2);
                Shape4 ys = Geometry.Pool2DOutput(pool, p);
                float[] y = new float[ys.Length], dx = new float[pool.Length];
                MaxPool2D.Forward(new(px, pool), p, new(y, ys), d);
                MaxPool2D.Backward(new(y, ys), new(px, pool), p, new(dx, pool), d);
                return [.. y, .. dx];
            }),
            new("relu", _ => { var y = new float[rx.Length]; Relu.Forward(rx, y); return y; }),
            new("softmax", _ => { var ds = new float[s.Length]; float l = Kernels.Losses.Softmax(new ReadOnlySpan2D<float>(s, 20, 13), labels, new Span2D<float>(ds, 20, 13)); return [.. ds, l]; }),
        ];
    }

    [Fact]
    public void Eight_threads_on_every_kernel_get_the_single_threaded_results()
    {
        Job[] jobs = Jobs();
        float[][] expected = jobs.Select(j => j.Run(1)).ToArray();
        int[] degrees = [1, 2, 4, 8];
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        // Every thread runs at least one full round of all kernels (each at a different degree of parallelism),
        // then keeps going for up to 3 s: a busy CI machine still gets the full cross-product.
        var stop = DateTime.UtcNow + TimeSpan.FromSeconds(3);
        int calls = 0;
        var threads = Enumerable.Range(0, 8).Select(t => new Thread(() =>
        {
            for (int round = 0; round == 0 || (DateTime.UtcNow < stop && round < 50); round++)
                for (int k = 0; k < jobs.Length; k++)
                {
                    int j = (k + t) % jobs.Length;
                    float[] got = jobs[j].Run(degrees[(round + t + k) % degrees.Length]);
                    Interlocked.Increment(ref calls);
                    if (!got.AsSpan().SequenceEqual(expected[j])) failures.Add($"{jobs[j].Name} on thread {t}, round {round}");
                }
        })).ToArray();
        foreach (Thread th in threads) th.Start();
        foreach (Thread th in threads) th.Join();
        Assert.Empty(failures);
        Assert.True(calls >= 8 * jobs.Length, $"{calls} calls ran");
    }

    [Fact]
    public void Results_are_identical_for_1_2_4_and_8_threads()
    {
        foreach (Job job in Jobs())
        {
            float[] one = job.Run(1);
            foreach (int d in new[] { 2, 4, 8 }) FloatAssert.BitwiseEqual(one, job.Run(d), $"{job.Name} with {d} threads");
        }
    }
}
