using System.Runtime.CompilerServices;

namespace Kernels.GemmInternals;

/// <summary>
/// C = A B with both operands already in panel layout over the whole reduction (<see cref="PrePackedA"/> from
/// <see cref="PrePacked.Pack{TA}"/>, <see cref="PrePackedB"/>): only BLIS's loops 2 and 1 around the microkernel, with
/// no job setup, packing or threads. For many small products in a row, such as the 36 per tile block of the Winograd
/// convolution, where <see cref="GemmCore.Run{TA, TB}"/>'s per-call set-up would cost a third of the work. Every tile
/// is computed whole: C must have room for m rounded up to MR rows and n rounded up to NR columns (the extra rows and
/// columns get the zero padding's products).
/// </summary>
internal static unsafe class PrePackedGemm
{
    /// <summary>Columns per panel of B for a product with m rows (the microkernel's NR).</summary>
    public static int PanelWidth(int m) => GemmBlocking.For(m).NR;

    /// <summary>Rows per panel of A for a product with m rows (the microkernel's MR).</summary>
    public static int PanelHeight(int m) => GemmBlocking.For(m).MR;

    /// <summary>Floats of B panels for a k x n operand: n rounded up to NR, times k.</summary>
    public static long BLength(int m, int n, int k) => ((long)n + PanelWidth(m) - 1) / PanelWidth(m) * PanelWidth(m) * k;

    /// <summary><c>C (m x n, leading dimension ldc) = A (m x k) B (k x n)</c>, overwriting C; k is reduced in KC slices in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(float* a, float* b, int m, int n, int k, float* c, nint ldc)
    {
        var product = new Product(a, b, m, n, k, c, ldc);
        MicroKernels.Run(m, ref product);
    }

    private readonly struct Product(float* a, float* b, int m, int n, int k, float* c, nint ldc) : ITileAction
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run<TK>(GemmBlocking blocking) where TK : IMicroKernel => Tiles<TK>(a, b, m, n, k, c, ldc, blocking.KC);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tiles<TK>(float* a, float* b, int m, int n, int k, float* c, nint ldc, int kcMax) where TK : IMicroKernel
    {
        int mr = TK.MR, nr = TK.NR;
        // KC slices keep a B micro-panel (kc x NR) in L1 while the ir loop reuses it; the first slice overwrites C.
        for (int pc = 0; pc < k; pc += kcMax)
        {
            int kc = Math.Min(kcMax, k - pc);
            float beta = pc == 0 ? 0f : 1f;
            // Loop 2 (jr) over NR panels of B; loop 1 (ir) over MR panels of A.
            for (int j = 0; j < n; j += nr)
            {
                float* bPanel = b + (nint)(j / nr) * nr * k + (nint)pc * nr;
                for (int i = 0; i < m; i += mr)
                    TK.Run(kc, a + (nint)(i / mr) * mr * k + (nint)pc * mr, bPanel, c + i * ldc + j, ldc, 1f, beta);
            }
        }
    }
}
