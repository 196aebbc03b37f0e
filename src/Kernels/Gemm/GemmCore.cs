using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kernels.Simd;

namespace Kernels.GemmInternals;

/// <summary>
/// Packed SGEMM in BLIS's structure: five loops around a register-blocked microkernel. Inputs are validated by the
/// caller; pointers are pinned for the call. Every C tile is computed by one microkernel call whose inputs do not
/// depend on the thread count, and K is always reduced in the same order, so results are bitwise identical for
/// any degree of parallelism.
/// </summary>
internal static unsafe class GemmCore
{
    /// <summary><c>C (m x n, ldc) = alpha * op(A) * op(B) + beta * C</c>; op(A) is m x k, op(B) is k x n.</summary>
    public static void Run(bool transA, bool transB, int m, int n, int k, float alpha, float* a, nint lda, float* b, nint ldb,
        float beta, float* c, nint ldc, int degree)
    {
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            ScaleC(m, n, beta, c, ldc);
            return;
        }
        var job = new Job(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, degree);
        switch (Isa.Width)
        {
            case SimdWidth.Vector512: job.Run<MicroKernel12x2V<Vector512<float>, V512>>(GemmBlocking.Avx512); break;
            case SimdWidth.Vector256: job.Run<MicroKernel6x2V<Vector256<float>, V256>>(GemmBlocking.Avx2); break;
            case SimdWidth.Vector128: job.Run<MicroKernel6x2V<Vector128<float>, V128>>(GemmBlocking.Sse); break;
            default: job.Run<MicroKernel6x2V<float, ScalarOps>>(GemmBlocking.Scalar); break;
        }
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

    private readonly struct Job(bool transA, bool transB, int m, int n, int k, float alpha, float* a, nint lda, float* b, nint ldb,
        float beta, float* c, nint ldc, int degree)
    {
        public void Run<TK>(GemmBlocking blocking) where TK : IMicroKernel
        {
            int mr = TK.MR, nr = TK.NR, kcMax = Math.Min(blocking.KC, k), ncMax = Math.Min(blocking.NC, RoundUp(n, nr));
            int mPanels = (m + mr - 1) / mr;
            float[] packA = ArrayPool<float>.Shared.Rent(mPanels * mr * kcMax);
            float[] packB = ArrayPool<float>.Shared.Rent(ncMax * kcMax);
            try
            {
                fixed (float* pa = packA, pb = packB)
                {
                    // Loop 5 (jc): NC-wide column blocks of B and C; the packed KC x NC block of B targets L3.
                    for (int jc = 0; jc < n; jc += blocking.NC)
                    {
                        int nc = Math.Min(blocking.NC, n - jc);
                        // Loop 4 (pc): KC-deep slices of the reduction; the first one applies beta, later ones accumulate.
                        for (int pc = 0; pc < k; pc += blocking.KC)
                        {
                            int kc = Math.Min(blocking.KC, k - pc);
                            var pack = new PackStep(this, pa, pb, mr, nr, pc, kc, jc, nc, mPanels);
                            Parallelism.For(mPanels + (nc + nr - 1) / nr, degree, pack);
                            var tiles = new TileStep<TK>(this, pa, pb, blocking.MC, pc == 0 ? beta : 1f, kc, jc, nc, mPanels, degree);
                            Parallelism.For(tiles.Items, degree, tiles);
                        }
                    }
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(packA);
                ArrayPool<float>.Shared.Return(packB);
            }
        }

        /// <summary>Packs MR-row panel <c>panel</c> of op(A)[:, pc..pc+kc] (column-major within the panel, zero-padded).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void PackA(int panel, int mr, int pc, int kc, float* dst)
        {
            int i0 = panel * mr, rows = Math.Min(mr, m - i0);
            if (transA)
            {
                // op(A)[i, p] = A[p, i]: each p gives `rows` contiguous floats.
                for (int p = 0; p < kc; p++, dst += mr)
                {
                    new ReadOnlySpan<float>(a + (pc + p) * lda + i0, rows).CopyTo(new Span<float>(dst, rows));
                    new Span<float>(dst + rows, mr - rows).Clear();
                }
                return;
            }
            for (int r = 0; r < rows; r++)
            {
                float* src = a + (i0 + r) * lda + pc;
                for (int p = 0; p < kc; p++) dst[p * mr + r] = src[p];
            }
            for (int r = rows; r < mr; r++)
                for (int p = 0; p < kc; p++) dst[p * mr + r] = 0f;
        }

        /// <summary>Packs NR-column panel <c>panel</c> of op(B)[pc..pc+kc, jc..jc+nc] (row-major within the panel, zero-padded).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void PackB(int panel, int nr, int pc, int kc, int jc, int nc, float* dst)
        {
            int j0 = jc + panel * nr, cols = Math.Min(nr, jc + nc - j0);
            if (!transB)
            {
                // op(B)[p, j] = B[p, j]: each p gives `cols` contiguous floats.
                for (int p = 0; p < kc; p++, dst += nr)
                {
                    new ReadOnlySpan<float>(b + (pc + p) * ldb + j0, cols).CopyTo(new Span<float>(dst, cols));
                    new Span<float>(dst + cols, nr - cols).Clear();
                }
                return;
            }
            for (int q = 0; q < cols; q++)
            {
                float* src = b + (j0 + q) * ldb + pc;
                for (int p = 0; p < kc; p++) dst[p * nr + q] = src[p];
            }
            for (int q = cols; q < nr; q++)
                for (int p = 0; p < kc; p++) dst[p * nr + q] = 0f;
        }

        /// <summary>
        /// One (MC block, group of NR panels) of C. Loop 3 (ic) walks MC-row blocks whose packed A targets L2;
        /// loop 2 (jr) walks NR panels whose packed B stays in L1 across loop 1 (ir) over MR rows.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Tiles<TK>(float* pa, float* pb, int icBlock, int mcBlock, int jrFirst, int jrEnd, float betaNow, int kc, int jc, int nc)
            where TK : IMicroKernel
        {
            int mr = TK.MR, nr = TK.NR;
            float* edge = stackalloc float[mr * nr];
            int i0 = icBlock * mcBlock, iEnd = Math.Min(m, i0 + mcBlock);
            for (int jr = jrFirst; jr < jrEnd; jr++)
            {
                int j = jc + jr * nr, cols = Math.Min(nr, jc + nc - j);
                float* bPanel = pb + (nint)jr * nr * kc;
                for (int i = i0; i < iEnd; i += mr)
                {
                    int rows = Math.Min(mr, m - i);
                    float* aPanel = pa + (nint)(i / mr) * mr * kc;
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
                        *cij = betaNow == 0f ? alpha * t : MathF.FusedMultiplyAdd(alpha, t, betaNow * *cij);
                    }
                }
            }
        }

        public int M => m;
    }

    private readonly struct PackStep(Job job, float* pa, float* pb, int mr, int nr, int pc, int kc, int jc, int nc, int mPanels) : IIndexAction
    {
        public void Invoke(int index)
        {
            if (index < mPanels) job.PackA(index, mr, pc, kc, pa + (nint)index * mr * kc);
            else job.PackB(index - mPanels, nr, pc, kc, jc, nc, pb + (nint)(index - mPanels) * nr * kc);
        }
    }

    private readonly struct TileStep<TK> : IIndexAction where TK : IMicroKernel
    {
        private readonly Job _job;
        private readonly float* _pa, _pb;
        private readonly int _mc, _kc, _jc, _nc, _icBlocks, _jrGroups, _panels;
        private readonly float _beta;

        public TileStep(Job job, float* pa, float* pb, int mc, float beta, int kc, int jc, int nc, int mPanels, int degree)
        {
            _pa = pa;
            _pb = pb;
            (_job, _mc, _beta, _kc, _jc, _nc) = (job, mc, beta, kc, jc, nc);
            _icBlocks = (job.M + mc - 1) / mc;
            _panels = (nc + TK.NR - 1) / TK.NR;
            // Enough (MC block, panel group) items to keep `degree` threads busy when M has few MC blocks.
            _jrGroups = degree <= 1 ? 1 : Math.Min(_panels, Math.Max(1, (2 * degree + _icBlocks - 1) / _icBlocks));
        }

        public int Items => _icBlocks * _jrGroups;

        public void Invoke(int index)
        {
            int ic = index / _jrGroups, g = index % _jrGroups;
            int first = (int)((long)_panels * g / _jrGroups), end = (int)((long)_panels * (g + 1) / _jrGroups);
            _job.Tiles<TK>(_pa, _pb, ic, _mc, first, end, _beta, _kc, _jc, _nc);
        }
    }

    private static int RoundUp(int x, int to) => (x + to - 1) / to * to;
}
