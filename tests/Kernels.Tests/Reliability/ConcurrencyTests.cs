using CommunityToolkit.HighPerformance;
using Kernels.Nn;
using Kernels.Threading;

namespace Kernels.Tests.Reliability;

/// <summary>
/// The fork-join runtime under load: sixteen application threads call every kernel at once, each asking for 2, 4 or
/// more threads than the machine has, for a bounded time; every result must equal the single-threaded result bit for
/// bit. Shapes are large enough that every kernel really splits its work.
/// </summary>
[Trait("Category", "Kernel")]
public class ConcurrencyTests
{
    public sealed record Job(string Name, Func<int, float[]> Run);

    public static Job[] Jobs()
    {
        var conv = new ConvCase(3, 5, 13, 11, 7, 3, 3, 1, 1, 1);
        var conv2 = new ConvCase(2, 3, 17, 17, 4, 5, 3, 2, 2, 2);
        var conv3 = new ConvCase(1, 16, 40, 40, 24, 3, 3, 1, 1, 3);   // one image: threads share it by pixel chunks
        var conv4 = new ConvCase(12, 3, 20, 20, 8, 5, 5, 1, 2, 4);    // few dw panels: the image-block order
        float[] cx = TestData.Floats(1, conv.X.Length), cw = TestData.Floats(2, conv.Filter.Length), cb = TestData.Floats(3, conv.F), cd = TestData.Floats(4, conv.Y.Length);
        float[] c2x = TestData.Floats(5, conv2.X.Length), c2w = TestData.Floats(6, conv2.Filter.Length), c2b = TestData.Floats(7, conv2.F);
        float[] ga = TestData.Floats(8, 170 * 90), gb = TestData.Floats(9, 90 * 150);
        var pool = new Shape4(4, 3, 67, 65);
        float[] px = TestData.Floats(10, pool.Length), rx = TestData.Floats(11, 300_000);
        float[] s = TestData.Floats(12, 2000 * 13);
        int[] labels = TestData.Labels(13, 2000, 13);
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
            new("conv one image", d => ConvBoth(conv3, d)),
            new("conv image blocks", d => ConvBoth(conv4, d)),
            new("conv winograd", d => ConvBoth(conv3, d, Conv2DAlgorithm.Winograd)),
            new("conv direct", d => ConvBoth(conv4, d, Conv2DAlgorithm.Direct)),
            new("gemm", d =>
            {
                var c = new float[170 * 150];
                Kernels.Gemm.Multiply(MatrixTranspose.None, MatrixTranspose.None, 1f, new ReadOnlySpan2D<float>(ga, 170, 90), new ReadOnlySpan2D<float>(gb, 90, 150), 0f,
                    new Span2D<float>(c, 170, 150), d);
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
            new("avg pool", d =>
            {
                var p = new Pool2DParams();
                Shape4 ys = Geometry.Pool2DOutput(pool, p);
                float[] y = new float[ys.Length], dx = new float[pool.Length];
                AvgPool2D.Forward(new(px, pool), p, new(y, ys), d);
                AvgPool2D.Backward(new(y, ys), pool, p, new(dx, pool), d);
                return [.. y, .. dx];
            }),
            new("relu", d =>
            {
                float[] y = new float[rx.Length], dx = new float[rx.Length];
                Relu.Forward(rx, y, d);
                Relu.Backward(rx, y, dx, d);
                Relu.Forward(y, y, d);
                return [.. y, .. dx];
            }),
            new("softmax", d => { var ds = new float[s.Length]; float l = Kernels.Losses.Softmax(new ReadOnlySpan2D<float>(s, 2000, 13), labels, new Span2D<float>(ds, 2000, 13), d); return [.. ds, l]; }),
            new("svm", d => { var ds = new float[s.Length]; float l = Kernels.Losses.Svm(new ReadOnlySpan2D<float>(s, 2000, 13), labels, new Span2D<float>(ds, 2000, 13), d); return [.. ds, l]; }),
            new("mse", d =>
            {
                var ds = new float[s.Length];
                float l = Kernels.Losses.MeanSquaredError(new ReadOnlySpan2D<float>(s, 2000, 13), new ReadOnlySpan2D<float>(rx, 0, 2000, 13, 0), new Span2D<float>(ds, 2000, 13), d);
                return [.. ds, l];
            }),
            new("training step", d =>
            {
                var model = new ThreeLayerConvNet<float>(new FastKernels(d), new ConvNetOptions(1, 12, 12, 6, 3, 20, 4, WeightScale: null, Reg: 1e-3));
                var x = NchwTensor<float>.Create(new Shape4(8, 1, 12, 12));
                TestData.Floats(14, x.Span.Length).CopyTo(x.Span);
                var rule = new Adam<float>();
                model.Loss(x, [0, 1, 2, 3, 0, 1, 2, 3]);
                rule.Step(model.Parameters, d);
                return model.Parameters.SelectMany(p => p.Value).ToArray();
            }),
        ];
    }

    private static float[] ConvBoth(ConvCase k, int d, Conv2DAlgorithm algorithm = Conv2DAlgorithm.Im2ColGemm)
    {
        float[] x = TestData.Floats(k.Seed, k.X.Length), w = TestData.Floats(k.Seed + 1, k.Filter.Length), b = TestData.Floats(k.Seed + 2, k.F);
        float[] y = new float[k.Y.Length], dx = new float[x.Length], dw = new float[w.Length], db = new float[k.F];
        Conv2D.Forward(new(x, k.X), new(w, k.Filter), b, k.P, new(y, k.Y), d, algorithm);
        Conv2D.Backward(new(y, k.Y), new(x, k.X), new(w, k.Filter), k.P, new(dx, k.X), new(dw, k.Filter), db, d, algorithm);
        return [.. y, .. dx, .. dw, .. db];
    }

    [Fact]
    public void Sixteen_threads_on_every_kernel_get_the_single_threaded_results()
    {
        Job[] jobs = Jobs();
        float[][] expected = jobs.Select(j => j.Run(1)).ToArray();
        int[] degrees = [2, 4, 1, 64, -1];
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        // Every thread runs at least one full round of all kernels (each at a different degree of parallelism),
        // then keeps going for up to 3 s: a busy CI machine still gets the full cross-product.
        var stop = DateTime.UtcNow + TimeSpan.FromSeconds(3);
        int calls = 0;
        var threads = Enumerable.Range(0, 16).Select(t => new Thread(() =>
        {
            for (int round = 0; round == 0 || (DateTime.UtcNow < stop && round < 20); round++)
                for (int k = 0; k < jobs.Length; k++)
                {
                    int j = (k + t) % jobs.Length;
                    float[] got = jobs[j].Run(degrees[(round + t + k) % degrees.Length]);
                    Interlocked.Increment(ref calls);
                    if (!got.AsSpan().SequenceEqual(expected[j])) failures.Add($"{jobs[j].Name} on thread {t}, round {round}");
                }
        })).ToArray();
        foreach (Thread th in threads) th.Start();
        foreach (Thread th in threads) Assert.True(th.Join(TimeSpan.FromMinutes(2)), "an application thread did not finish: deadlock?");
        Assert.Empty(failures);
        Assert.True(calls >= 16 * jobs.Length, $"{calls} calls ran");
    }

    [Fact]
    public void Results_are_identical_for_1_2_3_4_8_and_more_threads_than_cores()
    {
        foreach (Job job in Jobs())
        {
            float[] one = job.Run(1);
            foreach (int d in new[] { 2, 3, 4, 8, Environment.ProcessorCount * 4, -1 }) FloatAssert.BitwiseEqual(one, job.Run(d), $"{job.Name} with {d} threads");
        }
    }

    private static Job Named(string name) => Jobs().Single(j => j.Name == name);

    /// <summary>
    /// Runs <paramref name="call"/> until a fork-join call got a worker (team size 2 or more: workers busy with other
    /// tests' calls leave a call to its caller alone) and returns the team size; fails when none did in 30 s.
    /// </summary>
    private static int UntilAWorkerJoins(Func<int> call)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int size;
        while ((size = call()) < 2 && clock.Elapsed < TimeSpan.FromSeconds(30)) Thread.Sleep(1);
        Assert.True(size >= 2, $"no fork-join call got a worker in 30 s (ForkJoin.MaxThreads = {ForkJoin.MaxThreads})");
        return size;
    }

    /// <summary>
    /// A kernel called from inside a fork-join call runs inline with the same result, on the caller and on every worker
    /// of the team. The body meets at a barrier, so the caller never takes a share back: members above 0 run on workers.
    /// </summary>
    [MultiThreadFact]
    public void A_kernel_called_from_inside_a_worker_runs_inline_with_the_same_result()
    {
        Job job = Named("conv forward");
        float[] expected = job.Run(1);
        NestedCalls body = default;
        int size = UntilAWorkerJoins(() =>
        {
            body = new NestedCalls(job, new float[ForkJoin.MaxThreads][], new int[ForkJoin.MaxThreads], new int[1]);
            ForkJoin.Run(ForkJoin.MaxThreads, ref body);
            return body.Size[0];
        });
        for (int i = 0; i < size; i++)
        {
            Assert.True(body.Results[i] is not null, $"member {i} of {size} left no result");
            FloatAssert.BitwiseEqual(expected, body.Results[i]!, $"member {i} of {size}");
            if (i > 0) Assert.NotEqual(Environment.CurrentManagedThreadId, body.Threads[i]);
        }
        Assert.All(body.Results[size..], r => Assert.Null(r));
    }

    private readonly struct NestedCalls(Job job, float[]?[] results, int[] threads, int[] size) : ITeamBody
    {
        public static bool UsesBarrier => true;
        public float[]?[] Results => results;
        public int[] Threads => threads;
        public int[] Size => size;

        public void Invoke(in Team team)
        {
            results[team.Index] = job.Run(4);
            threads[team.Index] = Environment.CurrentManagedThreadId;
            size[0] = team.Size;
            team.Barrier();
        }
    }

    /// <summary>
    /// An exception on a worker reaches the caller as itself, and the runtime keeps working afterwards. Only members
    /// above 0 throw, so the exception the caller sees is never its own member 0's.
    /// </summary>
    [MultiThreadFact]
    public void An_exception_on_a_worker_is_rethrown_as_itself_and_the_pool_recovers()
    {
        for (int round = 0; round < 20; round++)
            UntilAWorkerJoins(() =>
            {
                var body = new ThrowingOnWorkers(new int[1]);
                InvalidOperationException? thrown = null;
                try { ForkJoin.Run(ForkJoin.MaxThreads, ref body); }
                catch (InvalidOperationException e) { thrown = e; }
                int size = body.Size[0];
                // One of the workers' exceptions (which one when several threw: ForkJoin's doc says the lowest member's,
                // but a share the caller took back and ran can come first on machines with more than two cores).
                if (size >= 2) Assert.Matches($"^member [1-9][0-9]* of {size}$", Assert.IsType<InvalidOperationException>(thrown).Message);
                else Assert.Null(thrown);
                return size;
            });
        Job job = Named("gemm");
        FloatAssert.BitwiseEqual(job.Run(1), job.Run(ForkJoin.MaxThreads), "gemm after the failures");
    }

    private readonly struct ThrowingOnWorkers(int[] size) : ITeamBody
    {
        public int[] Size => size;

        public void Invoke(in Team team)
        {
            size[0] = team.Size;
            if (team.Index > 0) throw new InvalidOperationException($"member {team.Index} of {team.Size}");
        }
    }

    /// <summary>
    /// A member that throws while the others wait at the call's barrier breaks it: they leave, the exception reaches
    /// the caller as itself, nothing hangs, and the next calls get a full team with the right results. Both ways: a
    /// worker throws while the caller waits, and the caller throws while the workers wait.
    /// </summary>
    [MultiThreadFact]
    public void A_member_throwing_while_the_others_wait_at_a_barrier_reaches_the_caller_and_the_pool_recovers()
    {
        Exception? failure = null;
        var caller = new Thread(() =>
        {
            try
            {
                foreach (bool workerThrows in new[] { true, false })
                    for (int round = 0; round < 5; round++)
                        UntilAWorkerJoins(() =>
                        {
                            var body = new ThrowingAtBarrier(workerThrows, new int[1]);
                            InvalidOperationException? thrown = null;
                            try { ForkJoin.Run(ForkJoin.MaxThreads, ref body); }
                            catch (InvalidOperationException e) { thrown = e; }
                            int size = body.Size[0];
                            if (size >= 2)
                                Assert.Equal($"member {(workerThrows ? size - 1 : 0)} of {size}", Assert.IsType<InvalidOperationException>(thrown).Message);
                            else
                                Assert.Null(thrown); // a team of one has no member to wait for
                            return size;
                        });
            }
            catch (Exception e)
            {
                failure = e;
            }
        }) { IsBackground = true }; // a hung call must not keep the test host alive
        caller.Start();
        Assert.True(caller.Join(TimeSpan.FromMinutes(2)), "a call with a broken barrier did not return: its members hang");
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        A_kernel_called_from_inside_a_worker_runs_inline_with_the_same_result(); // a full team again, every member right
        Job job = Named("gemm");
        FloatAssert.BitwiseEqual(job.Run(1), job.Run(ForkJoin.MaxThreads), "gemm after the broken barriers");
    }

    private readonly struct ThrowingAtBarrier(bool workerThrows, int[] size) : ITeamBody
    {
        public static bool UsesBarrier => true;
        public int[] Size => size;

        public void Invoke(in Team team)
        {
            size[0] = team.Size;
            if (team.Size > 1 && team.Index == (workerThrows ? team.Size - 1 : 0))
                throw new InvalidOperationException($"member {team.Index} of {team.Size}");
            team.Barrier(); // the others wait here for the member that threw
            team.Barrier();
        }
    }
}
