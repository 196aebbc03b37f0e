using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace Kernels.Threading;

/// <summary>
/// The body of a fork-join call: run once by each member of the team, which splits the call's work items among
/// its <see cref="Team.Size"/> members by a static partition (<see cref="Partition"/>), never by stealing. A member's
/// share must not depend on what the others do except through <see cref="Team.Barrier"/>.
/// </summary>
internal interface ITeamBody
{
    void Invoke(in Team team);

    /// <summary>
    /// Whether members meet at <see cref="Team.Barrier"/>. Only bodies without barriers let the caller take over a
    /// share that a worker has not started yet (one member running two shares in turn would wait for itself).
    /// </summary>
    static virtual bool UsesBarrier => false;
}

/// <summary>One member's view of a fork-join call: its index, the team size, and the call's barrier.</summary>
internal readonly unsafe ref struct Team
{
    private readonly ForkJoin.CallState* _call;

    internal Team(int index, int size, ForkJoin.CallState* call)
    {
        Index = index;
        Size = size;
        _call = call;
    }

    /// <summary>This member, 0 (the caller) to Size - 1.</summary>
    public int Index { get; }

    /// <summary>Members running the call at once: at least 1, at most the degree asked for.</summary>
    public int Size { get; }

    /// <summary>Waits until every member has reached it (spinning: members arrive microseconds apart).</summary>
    public void Barrier()
    {
        if (Size > 1) _call->Barrier();
    }
}

/// <summary>
/// The library's own fork-join runtime (oneDNN's and ONNX Runtime's thread pools are the anchors): persistent worker
/// threads, started on first use, each keeping its own scratch arena for its whole life; a call claims idle
/// workers, hands each member one static share of the work, runs share 0 itself and waits for the others. Workers
/// spin briefly after a call and then park, so back-to-back kernels find them awake (a fork + join of an empty
/// call costs a few microseconds, not a thread-pool hop).
/// <para>Safe when embedded: many application threads may call at once. A call takes only workers that are idle
/// at that moment and otherwise runs with fewer members, down to the caller alone, so there is no queue, no
/// deadlock and no oversubscription; a call made from inside a call (by a member) runs inline. Results never depend
/// on the team size because bodies split their items into independent blocks. An exception in any member is
/// rethrown on the caller as itself (the lowest member's first), after every member has stopped.</para>
/// <para>Nothing is allocated per call: the body is a struct on the caller's stack, reached by the workers through a
/// pointer and a function pointer while the caller waits.</para>
/// </summary>
internal static unsafe class ForkJoin
{
    /// <summary>How long a worker spins for the next call before it parks: kernels of one training step follow each other within this.</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 5000; // 200 microseconds

    [ThreadStatic] private static bool t_inCall;
    private static Worker[]? s_workers;
    private static readonly object s_startLock = new();

    /// <summary>Threads this process can run kernels on at once (the caller included).</summary>
    public static int MaxThreads { get; } = CanStartThreads ? Environment.ProcessorCount : 1;

    // Browsers without threads (and WASI) run every call inline.
    private static bool CanStartThreads => !OperatingSystem.IsBrowser() && !OperatingSystem.IsWasi();

    /// <summary>
    /// Runs <paramref name="body"/> on a team of at most <paramref name="threads"/> members (the caller and claimed
    /// idle workers) and returns when all have finished.
    /// </summary>
    public static void Run<TBody>(int threads, ref TBody body) where TBody : struct, ITeamBody
    {
        threads = Math.Min(threads, MaxThreads);
        if (threads <= 1 || t_inCall)
        {
            body.Invoke(new Team(0, 1, null));
            return;
        }
        RunTeam(threads, ref body);
    }

    private static void RunTeam<TBody>(int threads, ref TBody body) where TBody : struct, ITeamBody
    {
        Worker[] workers = s_workers ?? Start();
        int* claimed = stackalloc int[threads - 1];
        int helpers = 0;
        for (int i = 0; i < workers.Length && helpers < threads - 1; i++)
            if (workers[i].TryClaim()) claimed[helpers++] = i;
        if (helpers == 0)
        {
            body.Invoke(new Team(0, 1, null));
            return;
        }

        CallState call = default;
        call.Size = helpers + 1;
        call.Remaining = helpers;
        delegate*<void*, int, CallState*, void> invoke = &Invoker<TBody>.Invoke;
        void* target = Unsafe.AsPointer(ref body);
        for (int h = 0; h < helpers; h++) workers[claimed[h]].Post(invoke, target, h + 1, &call);

        ExceptionDispatchInfo? own = null;
        t_inCall = true;
        try
        {
            body.Invoke(new Team(0, call.Size, &call));
            // A share whose worker has not started it yet (still waking from its park, or descheduled on a busy
            // machine) is run here instead: the partition stays static, only who runs the share changes.
            if (!TBody.UsesBarrier)
                for (int h = 0; h < helpers; h++)
                    if (workers[claimed[h]].TryRetract())
                    {
                        Interlocked.Decrement(ref call.Remaining);
                        body.Invoke(new Team(h + 1, call.Size, &call));
                    }
        }
        catch (Exception e) when (e is not BarrierBrokenException)
        {
            own = ExceptionDispatchInfo.Capture(e);
            call.Broken = 1; // members waiting at a barrier leave instead of waiting for us
            for (int h = 0; h < helpers; h++)
                if (workers[claimed[h]].TryRetract()) Interlocked.Decrement(ref call.Remaining);
        }
        catch (BarrierBrokenException) { }
        finally
        {
            t_inCall = false;
        }

        // Join: members finish within microseconds of each other, so the caller spins (yielding, never sleeping).
        var spin = new SpinWait();
        while (Volatile.Read(ref call.Remaining) != 0) spin.SpinOnce(sleep1Threshold: -1);

        // Release the workers only now: a worker stays claimed until its exception (if any) has been collected.
        for (int h = 0; h < helpers; h++)
        {
            ExceptionDispatchInfo? e = workers[claimed[h]].Release();
            own ??= e;
        }
        own?.Throw();
    }

    /// <summary>
    /// Bytes the workers have allocated on the managed heap so far (each records its own count after every share):
    /// lets tests check that calls allocate nothing on any thread, without the noise of the runtime's own threads.
    /// </summary>
    internal static long AllocatedBytesOnWorkers
    {
        get
        {
            long sum = 0;
            foreach (Worker w in s_workers ?? []) sum += w.AllocatedBytes;
            return sum;
        }
    }

    private static Worker[] Start()
    {
        lock (s_startLock)
        {
            if (s_workers is null)
            {
                var workers = new Worker[MaxThreads - 1];
                for (int i = 0; i < workers.Length; i++) workers[i] = new Worker(i);
                s_workers = workers;
            }
            return s_workers;
        }
    }

    private static class Invoker<TBody> where TBody : struct, ITeamBody
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Invoke(void* body, int index, CallState* call) => Unsafe.AsRef<TBody>(body).Invoke(new Team(index, call->Size, call));
    }

    /// <summary>One call's shared state, on the caller's stack for the duration of the call.</summary>
    internal struct CallState
    {
        public int Size, Remaining, Broken;
        private int _arrived, _generation;

        /// <summary>A sense-reversing spin barrier for the call's members; leaves by exception when a member failed.</summary>
        public void Barrier()
        {
            int generation = Volatile.Read(ref _generation);
            if (Interlocked.Increment(ref _arrived) == Size)
            {
                _arrived = 0;
                Volatile.Write(ref _generation, generation + 1);
                return;
            }
            var spin = new SpinWait();
            while (Volatile.Read(ref _generation) == generation)
            {
                if (Volatile.Read(ref Broken) != 0) throw new BarrierBrokenException();
                spin.SpinOnce(sleep1Threshold: -1);
            }
        }
    }

    /// <summary>Unwinds the members waiting at a barrier after another member failed; never reaches the caller.</summary>
    private sealed class BarrierBrokenException : Exception;

    /// <summary>
    /// A persistent thread. States: Idle -> (caller claims) Claimed -> (caller posts a share) Posted -> (worker takes
    /// it) Running, or (caller takes it back before the worker started) Claimed again; the caller returns it to Idle
    /// after the join. Only the transition out of Posted is contended, and a compare-exchange decides it.
    /// </summary>
    private sealed class Worker
    {
        private const int Idle = 0, Claimed = 1, Posted = 2, Running = 3;
        private readonly ManualResetEventSlim _wake = new(false, spinCount: 1);
        private int _state, _parked;
        private delegate*<void*, int, CallState*, void> _invoke;
        private void* _body;
        private int _index;
        private CallState* _call;
        private ExceptionDispatchInfo? _exception;
        private long _allocatedBytes;

        public long AllocatedBytes => Volatile.Read(ref _allocatedBytes);

        public Worker(int number)
        {
            var thread = new Thread(Loop) { IsBackground = true, Name = $"Kernels worker {number + 1}" };
            thread.Start();
        }

        public bool TryClaim() => Volatile.Read(ref _state) == Idle && Interlocked.CompareExchange(ref _state, Claimed, Idle) == Idle;

        public void Post(delegate*<void*, int, CallState*, void> invoke, void* body, int index, CallState* call)
        {
            _invoke = invoke;
            _body = body;
            _index = index;
            _call = call;
            Interlocked.Exchange(ref _state, Posted); // publishes the fields above (full fence)
            if (Volatile.Read(ref _parked) != 0) _wake.Set();
        }

        /// <summary>Takes a posted share back if the worker has not started it; the caller then runs it.</summary>
        public bool TryRetract() => Volatile.Read(ref _state) == Posted && Interlocked.CompareExchange(ref _state, Claimed, Posted) == Posted;

        /// <summary>Ends the claim after the call has joined; returns the exception the worker's share threw, if any.</summary>
        public ExceptionDispatchInfo? Release()
        {
            ExceptionDispatchInfo? e = _exception;
            _exception = null;
            Volatile.Write(ref _state, Idle);
            return e;
        }

        private void Loop()
        {
            t_inCall = true; // anything a body calls from a worker runs inline
            while (true)
            {
                WaitForShare();
                CallState* call = _call;
                try
                {
                    _invoke(_body, _index, call);
                }
                catch (BarrierBrokenException) { }
                catch (Exception e)
                {
                    _exception = ExceptionDispatchInfo.Capture(e);
                    Volatile.Write(ref call->Broken, 1);
                }
                Volatile.Write(ref _allocatedBytes, GC.GetAllocatedBytesForCurrentThread());
                Interlocked.Decrement(ref call->Remaining); // the caller may return (and its stack go) after this
            }
        }

        /// <summary>Returns once this worker has moved a posted share to Running: spins for a while, then parks.</summary>
        private void WaitForShare()
        {
            long start = Stopwatch.GetTimestamp();
            while (true)
            {
                if (Volatile.Read(ref _state) == Posted && Interlocked.CompareExchange(ref _state, Running, Posted) == Posted) return;
                if (Stopwatch.GetTimestamp() - start < SpinTicks)
                {
                    Thread.SpinWait(20);
                    continue;
                }
                // Park; the full fence of the exchange pairs with Post's, so a post is seen either here or by Post.
                Interlocked.Exchange(ref _parked, 1);
                if (Volatile.Read(ref _state) != Posted) _wake.Wait();
                Interlocked.Exchange(ref _parked, 0);
                _wake.Reset();
            }
        }
    }
}

/// <summary>Static partitions: contiguous, near-equal ranges per member (oneDNN's balance211).</summary>
internal static class Partition
{
    /// <summary>Items [Begin, End) of member <paramref name="index"/> of <paramref name="size"/> over <paramref name="count"/> items.</summary>
    public static (int Begin, int End) Range(int count, int index, int size) =>
        ((int)((long)count * index / size), (int)((long)count * (index + 1) / size));

    /// <summary>The team size worth using: at most <paramref name="degree"/>, and at least <paramref name="minPerThread"/> units of work per member.</summary>
    public static int Threads(int degree, long work, long minPerThread) =>
        (int)Math.Clamp(work / Math.Max(1, minPerThread), 1, Math.Max(1, degree));
}
