using System.Runtime.CompilerServices;
using Kernels.Simd;
using Kernels.Threading;

namespace Kernels.GemmInternals;

/// <summary>
/// Packed SGEMM in BLIS's structure: five loops around a register-blocked microkernel, with the packing of A and
/// B as parameters (plain matrices, or a convolution's image read as its im2col matrix). Inputs are validated by
/// the caller; pointers are pinned for the call. Every C tile is computed by one microkernel call whose inputs do
/// not depend on the thread count, and K is always reduced in the same order, so results are bitwise identical
/// for any degree of parallelism.
/// </summary>
internal static unsafe class GemmCore
{
    /// <summary><c>C (m x n, ldc) = alpha * op(A) * op(B) + beta * C</c> for row-major matrices.</summary>
    public static void Run(bool transA, bool transB, int m, int n, int k, float alpha, float* a, nint lda, float* b, nint ldb,
        float beta, float* c, nint ldc, int degree) =>
        Run(new MatrixPackA(a, lda, transA), new MatrixPackB(b, ldb, transB), m, n, k, alpha, beta, c, ldc, degree);

    /// <summary><c>C (m x n, ldc) = alpha * op(A) * op(B) + beta * C</c>; op(A) (m x k) and op(B) (k x n) come from
    /// their packers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs on several threads at once: never as instrumented tier-0 code
    public static void Run<TA, TB>(TA packA, TB packB, int m, int n, int k, float alpha, float beta, float* c, nint ldc, int degree)
        where TA : struct, IPackA where TB : struct, IPackB
    {
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            ScaleC(m, n, beta, c, ldc);
            return;
        }
        var job = new Job<TA, TB>(packA, packB, m, n, k, alpha, beta, c, ldc, degree);
        MicroKernels.Run(m, ref job);
    }

    /// <summary>k = 0: the product is empty, so C = beta * C (0 when beta is 0, without reading C).</summary>
    private static void ScaleC(int m, int n, float beta, float* c, nint ldc)
    {
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + i * ldc, n);
            if (beta == 0f) row.Clear();
            else System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
        }
    }

    private readonly struct Job<TA, TB>(TA packA, TB packB, int m, int n, int k, float alpha, float beta, float* c, nint ldc, int degree)
        : ITileAction where TA : struct, IPackA where TB : struct, IPackB
    {
        public int M => m;

        public void Run<TK>(GemmBlocking blocking) where TK : IMicroKernel
        {
            int mr = TK.MR, nr = TK.NR, kcMax = Math.Min(blocking.KC, k), ncMax = Math.Min(blocking.NC, RoundUp(n, nr));
            int mPanels = (m + mr - 1) / mr;
            // MC blocks of equal size (a multiple of MR, at most MC + MR - 1): 1024 rows in blocks of 144 would
            // leave a last block of 16 rows, and threads sharing the blocks would wait for the uneven split.
            int mcBlocks = (m + blocking.MC - 1) / blocking.MC, mc = RoundUp((m + mcBlocks - 1) / mcBlocks, mr);
            // Scratch of the calling thread; the team packs into it together and every member reads it.
            float* pa = Scratch.Get(Scratch.Role.PackedA, TA.InPlace ? 0 : (long)mPanels * mr * kcMax);
            float* pb = Scratch.Get(Scratch.Role.PackedB, TB.InPlace ? 0 : (long)ncMax * kcMax);
            var team = new TeamLoops<TK, TA, TB>(this, blocking, pa, pb, mc, mPanels);
            // One fork-join per call; members meet at a barrier after packing each slice and before repacking.
            ForkJoin.Run(Partition.Threads(degree, (long)m * n * k, MinMultiplyAddsPerThread), ref team);
        }

        /// <summary>
        /// The jc and pc loops, run by every member of the team: per KC slice, the members pack their shares of the
        /// panels, meet, compute their shares of the (MC block, group of NR panels) tiles, and meet again before
        /// the next slice overwrites the panels. Sources read in place need neither packing nor barriers.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Slices<TK>(in Team team, GemmBlocking blocking, float* pa, float* pb, int mc, int mPanels) where TK : IMicroKernel
        {
            int nr = TK.NR;
            // Loop 5 (jc): NC-wide column blocks of B and C; the packed KC x NC block of B targets L3.
            for (int jc = 0; jc < n; jc += blocking.NC)
            {
                int nc = Math.Min(blocking.NC, n - jc);
                // Loop 4 (pc): KC-deep slices of the reduction; the first one applies beta, later ones accumulate.
                for (int pc = 0; pc < k; pc += blocking.KC)
                {
                    int kc = Math.Min(blocking.KC, k - pc);
                    int aItems = TA.InPlace ? 0 : mPanels, bItems = TB.InPlace ? 0 : (nc + nr - 1) / nr;
                    if (aItems + bItems > 0)
                    {
                        // A panels and B panels are split separately, so each member packs as many floats (one
                        // split of both lists gave one thread the B panels, 2.7x an A panel each, and the other waited).
                        var pack = new PackStep<TA, TB>(packA, packB, pa, pb, m, TK.MR, nr, pc, kc, jc, nc, aItems);
                        (int a0, int a1) = Partition.Range(aItems, team.Index, team.Size);
                        (int b0, int b1) = Partition.Range(bItems, team.Index, team.Size);
                        for (int i = a0; i < a1; i++) pack.Invoke(i);
                        for (int i = aItems + b0; i < aItems + b1; i++) pack.Invoke(i);
                        team.Barrier();
                    }
                    var tiles = new TileStep<TK, TA, TB>(this, pa, pb, mc, pc == 0 ? beta : 1f, pc, kc, jc, nc, team.Size);
                    (int t0, int t1) = Partition.Range(tiles.Items, team.Index, team.Size);
                    for (int i = t0; i < t1; i++) tiles.Invoke(i);
                    if (aItems + bItems > 0) team.Barrier();
                }
            }
        }

        /// <summary>
        /// One (MC block, group of NR panels) of C. Loop 3 (ic) walks MC-row blocks whose packed A targets L2;
        /// loop 2 (jr) walks NR panels whose packed B stays in L1 across loop 1 (ir) over MR rows.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Tiles<TK>(float* pa, float* pb, int icBlock, int mcBlock, int jrFirst, int jrEnd, float betaNow, int pc, int kc, int jc, int nc)
            where TK : IMicroKernel
        {
            int mr = TK.MR, nr = TK.NR;
            float* edge = stackalloc float[mr * nr];
            int i0 = icBlock * mcBlock, iEnd = Math.Min(m, i0 + mcBlock);
            for (int jr = jrFirst; jr < jrEnd; jr++)
            {
                int j = jc + jr * nr, cols = Math.Min(nr, jc + nc - j);
                float* bPanel = TB.InPlace ? packB.Panel(j, nr, pc) : pb + (nint)jr * nr * kc;
                for (int i = i0; i < iEnd; i += mr)
                {
                    int rows = Math.Min(mr, m - i);
                    float* aPanel = TA.InPlace ? packA.Panel(i, mr, pc) : pa + (nint)(i / mr) * mr * kc;
                    float* cTile = c + i * ldc + j;
                    if (rows == mr && cols == nr)
                    {
                        TK.Run(kc, aPanel, bPanel, cTile, ldc, alpha, betaNow);
                        continue;
                    }
                    // Edge tile: compute the full tile into scratch, then merge only the valid part with the
                    // same arithmetic as the microkernel's store (so edge and interior round alike).
                    TK.Run(kc, aPanel, bPanel, edge, nr, 1f, 0f);
                    for (int r = 0; r < rows; r++)
                    for (int q = 0; q < cols; q++)
                    {
                        float t = edge[r * nr + q];
                        float* cij = cTile + r * ldc + q;
                        *cij = betaNow == 0f ? alpha * t : ScalarOps.MultiplyAdd(alpha, t, betaNow * *cij);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Below about this many multiply-adds per thread a GEMM stays on fewer threads: a fork-join and two barriers
    /// per slice cost a few microseconds, about 2^20 multiply-adds at 100+ GFLOP/s.
    /// </summary>
    private const long MinMultiplyAddsPerThread = 1 << 20;

    private readonly struct TeamLoops<TK, TA, TB>(Job<TA, TB> job, GemmBlocking blocking, float* pa, float* pb, int mc, int mPanels) : ITeamBody
        where TK : IMicroKernel where TA : struct, IPackA where TB : struct, IPackB
    {
        public void Invoke(in Team team) => job.Slices<TK>(team, blocking, pa, pb, mc, mPanels);

        public static bool UsesBarrier => true;
    }

    private readonly struct PackStep<TA, TB>(TA a, TB b, float* pa, float* pb, int m, int mr, int nr, int pc, int kc, int jc, int nc, int mPanels) : IIndexAction
        where TA : struct, IPackA where TB : struct, IPackB
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Invoke(int index)
        {
            if (index < mPanels)
            {
                int i0 = index * mr;
                a.Pack(i0, Math.Min(mr, m - i0), mr, pc, kc, pa + (nint)index * mr * kc);
            }
            else
            {
                int panel = index - mPanels, j0 = jc + panel * nr;
                b.Pack(j0, Math.Min(nr, jc + nc - j0), nr, pc, kc, pb + (nint)panel * nr * kc);
            }
        }
    }

    private readonly struct TileStep<TK, TA, TB> : IIndexAction where TK : IMicroKernel where TA : struct, IPackA where TB : struct, IPackB
    {
        private readonly Job<TA, TB> _job;
        private readonly float* _pa, _pb;
        private readonly int _mc, _pc, _kc, _jc, _nc, _jrGroups, _panels;
        private readonly float _beta;

        public TileStep(Job<TA, TB> job, float* pa, float* pb, int mc, float beta, int pc, int kc, int jc, int nc, int degree)
        {
            _pa = pa;
            _pb = pb;
            (_job, _mc, _beta, _pc, _kc, _jc, _nc) = (job, mc, beta, pc, kc, jc, nc);
            int icBlocks = (job.M + mc - 1) / mc;
            _panels = (nc + TK.NR - 1) / TK.NR;
            // Enough (MC block, panel group) items to keep `degree` threads busy when M has few MC blocks.
            _jrGroups = degree <= 1 ? 1 : Math.Min(_panels, Math.Max(1, (2 * degree + icBlocks - 1) / icBlocks));
            Items = icBlocks * _jrGroups;
        }

        public int Items { get; }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Invoke(int index)
        {
            int ic = index / _jrGroups, g = index % _jrGroups;
            int first = (int)((long)_panels * g / _jrGroups), end = (int)((long)_panels * (g + 1) / _jrGroups);
            _job.Tiles<TK>(_pa, _pb, ic, _mc, first, end, _beta, _pc, _kc, _jc, _nc);
        }
    }

    private static int RoundUp(int x, int to) => (x + to - 1) / to * to;
}
