using System.Runtime.CompilerServices;
using Kernels.Simd;

namespace Kernels.GemmInternals;

/// <summary>
/// A GEMM microkernel. Contract (as in BLIS's KernelsHowTo): <c>a</c> is a packed MR x kc micro-panel of A
/// (column p holds A[0..MR, p] contiguously), <c>b</c> a packed kc x NR micro-panel of B (row p holds
/// B[p, 0..NR] contiguously), both zero-padded at the edges. It computes the MR x NR tile
/// <c>C = alpha * A*B + beta * C</c> with row stride ldc; when beta is 0, C is only written, never read (it may hold
/// NaN). kc &gt;= 1. Edge tiles are run on a temporary MR x NR tile by the caller.
/// </summary>
internal unsafe interface IMicroKernel
{
    static abstract int MR { get; }
    static abstract int NR { get; }
    static abstract void Run(int kc, float* a, float* b, float* c, nint ldc, float alpha, float beta);
}

/// <summary>12 x (2 vectors) tile: 12 x 32 with Vector512 (24 accumulators).</summary>
internal unsafe readonly struct MicroKernel12x2V<TVec, TOps> : IMicroKernel where TVec : struct where TOps : IVectorOps<TVec>
{
    public static int MR => 12;
    public static int NR => 2 * TOps.Count;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: skip tier-0 code
    public static void Run(int kc, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
        TVec c0a = TOps.Zero, c0b = TOps.Zero, c1a = TOps.Zero, c1b = TOps.Zero, c2a = TOps.Zero, c2b = TOps.Zero;
        TVec c3a = TOps.Zero, c3b = TOps.Zero, c4a = TOps.Zero, c4b = TOps.Zero, c5a = TOps.Zero, c5b = TOps.Zero;
        TVec c6a = TOps.Zero, c6b = TOps.Zero, c7a = TOps.Zero, c7b = TOps.Zero, c8a = TOps.Zero, c8b = TOps.Zero;
        TVec c9a = TOps.Zero, c9b = TOps.Zero, cAa = TOps.Zero, cAb = TOps.Zero, cBa = TOps.Zero, cBb = TOps.Zero;
        int w = TOps.Count;
        for (int p = 0; p < kc; p++, a += 12, b += 2 * w)
        {
            TVec b0 = TOps.Load(in *b), b1 = TOps.Load(in *(b + w)), x;
            x = TOps.Broadcast(a[0]); c0a = TOps.MultiplyAdd(x, b0, c0a); c0b = TOps.MultiplyAdd(x, b1, c0b);
            x = TOps.Broadcast(a[1]); c1a = TOps.MultiplyAdd(x, b0, c1a); c1b = TOps.MultiplyAdd(x, b1, c1b);
            x = TOps.Broadcast(a[2]); c2a = TOps.MultiplyAdd(x, b0, c2a); c2b = TOps.MultiplyAdd(x, b1, c2b);
            x = TOps.Broadcast(a[3]); c3a = TOps.MultiplyAdd(x, b0, c3a); c3b = TOps.MultiplyAdd(x, b1, c3b);
            x = TOps.Broadcast(a[4]); c4a = TOps.MultiplyAdd(x, b0, c4a); c4b = TOps.MultiplyAdd(x, b1, c4b);
            x = TOps.Broadcast(a[5]); c5a = TOps.MultiplyAdd(x, b0, c5a); c5b = TOps.MultiplyAdd(x, b1, c5b);
            x = TOps.Broadcast(a[6]); c6a = TOps.MultiplyAdd(x, b0, c6a); c6b = TOps.MultiplyAdd(x, b1, c6b);
            x = TOps.Broadcast(a[7]); c7a = TOps.MultiplyAdd(x, b0, c7a); c7b = TOps.MultiplyAdd(x, b1, c7b);
            x = TOps.Broadcast(a[8]); c8a = TOps.MultiplyAdd(x, b0, c8a); c8b = TOps.MultiplyAdd(x, b1, c8b);
            x = TOps.Broadcast(a[9]); c9a = TOps.MultiplyAdd(x, b0, c9a); c9b = TOps.MultiplyAdd(x, b1, c9b);
            x = TOps.Broadcast(a[10]); cAa = TOps.MultiplyAdd(x, b0, cAa); cAb = TOps.MultiplyAdd(x, b1, cAb);
            x = TOps.Broadcast(a[11]); cBa = TOps.MultiplyAdd(x, b0, cBa); cBb = TOps.MultiplyAdd(x, b1, cBb);
        }
        TileStore<TVec, TOps>.Row(c, c0a, c0b, alpha, beta); TileStore<TVec, TOps>.Row(c + ldc, c1a, c1b, alpha, beta);
        TileStore<TVec, TOps>.Row(c + 2 * ldc, c2a, c2b, alpha, beta); TileStore<TVec, TOps>.Row(c + 3 * ldc, c3a, c3b, alpha, beta);
        TileStore<TVec, TOps>.Row(c + 4 * ldc, c4a, c4b, alpha, beta); TileStore<TVec, TOps>.Row(c + 5 * ldc, c5a, c5b, alpha, beta);
        TileStore<TVec, TOps>.Row(c + 6 * ldc, c6a, c6b, alpha, beta); TileStore<TVec, TOps>.Row(c + 7 * ldc, c7a, c7b, alpha, beta);
        TileStore<TVec, TOps>.Row(c + 8 * ldc, c8a, c8b, alpha, beta); TileStore<TVec, TOps>.Row(c + 9 * ldc, c9a, c9b, alpha, beta);
        TileStore<TVec, TOps>.Row(c + 10 * ldc, cAa, cAb, alpha, beta); TileStore<TVec, TOps>.Row(c + 11 * ldc, cBa, cBb, alpha, beta);
    }
}

/// <summary>
/// 8 x (2 vectors) tile: 8 x 32 with Vector512 (16 accumulators, still enough to hide the FMA latency on two
/// ports). Chosen over 12 x 32 when M fits 8-row panels much better: 64 filters fill 8 tiles exactly where
/// 12-row tiles compute 72 rows for 64.
/// </summary>
internal unsafe readonly struct MicroKernel8x2V<TVec, TOps> : IMicroKernel where TVec : struct where TOps : IVectorOps<TVec>
{
    public static int MR => 8;
    public static int NR => 2 * TOps.Count;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
        TVec c0a = TOps.Zero, c0b = TOps.Zero, c1a = TOps.Zero, c1b = TOps.Zero, c2a = TOps.Zero, c2b = TOps.Zero, c3a = TOps.Zero, c3b = TOps.Zero;
        TVec c4a = TOps.Zero, c4b = TOps.Zero, c5a = TOps.Zero, c5b = TOps.Zero, c6a = TOps.Zero, c6b = TOps.Zero, c7a = TOps.Zero, c7b = TOps.Zero;
        int w = TOps.Count;
        for (int p = 0; p < kc; p++, a += 8, b += 2 * w)
        {
            TVec b0 = TOps.Load(in *b), b1 = TOps.Load(in *(b + w)), x;
            x = TOps.Broadcast(a[0]); c0a = TOps.MultiplyAdd(x, b0, c0a); c0b = TOps.MultiplyAdd(x, b1, c0b);
            x = TOps.Broadcast(a[1]); c1a = TOps.MultiplyAdd(x, b0, c1a); c1b = TOps.MultiplyAdd(x, b1, c1b);
            x = TOps.Broadcast(a[2]); c2a = TOps.MultiplyAdd(x, b0, c2a); c2b = TOps.MultiplyAdd(x, b1, c2b);
            x = TOps.Broadcast(a[3]); c3a = TOps.MultiplyAdd(x, b0, c3a); c3b = TOps.MultiplyAdd(x, b1, c3b);
            x = TOps.Broadcast(a[4]); c4a = TOps.MultiplyAdd(x, b0, c4a); c4b = TOps.MultiplyAdd(x, b1, c4b);
            x = TOps.Broadcast(a[5]); c5a = TOps.MultiplyAdd(x, b0, c5a); c5b = TOps.MultiplyAdd(x, b1, c5b);
            x = TOps.Broadcast(a[6]); c6a = TOps.MultiplyAdd(x, b0, c6a); c6b = TOps.MultiplyAdd(x, b1, c6b);
            x = TOps.Broadcast(a[7]); c7a = TOps.MultiplyAdd(x, b0, c7a); c7b = TOps.MultiplyAdd(x, b1, c7b);
        }
        TileStore<TVec, TOps>.Row(c, c0a, c0b, alpha, beta); TileStore<TVec, TOps>.Row(c + ldc, c1a, c1b, alpha, beta);
        TileStore<TVec, TOps>.Row(c + 2 * ldc, c2a, c2b, alpha, beta); TileStore<TVec, TOps>.Row(c + 3 * ldc, c3a, c3b, alpha, beta);
        TileStore<TVec, TOps>.Row(c + 4 * ldc, c4a, c4b, alpha, beta); TileStore<TVec, TOps>.Row(c + 5 * ldc, c5a, c5b, alpha, beta);
        TileStore<TVec, TOps>.Row(c + 6 * ldc, c6a, c6b, alpha, beta); TileStore<TVec, TOps>.Row(c + 7 * ldc, c7a, c7b, alpha, beta);
    }
}

/// <summary>6 x (2 vectors) tile: 6 x 16 with Vector256 (BLIS Haswell), 6 x 8 with Vector128, 6 x 2 scalar.</summary>
internal unsafe readonly struct MicroKernel6x2V<TVec, TOps> : IMicroKernel where TVec : struct where TOps : IVectorOps<TVec>
{
    public static int MR => 6;
    public static int NR => 2 * TOps.Count;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: skip tier-0 code
    public static void Run(int kc, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
        TVec c0a = TOps.Zero, c0b = TOps.Zero, c1a = TOps.Zero, c1b = TOps.Zero, c2a = TOps.Zero, c2b = TOps.Zero;
        TVec c3a = TOps.Zero, c3b = TOps.Zero, c4a = TOps.Zero, c4b = TOps.Zero, c5a = TOps.Zero, c5b = TOps.Zero;
        int w = TOps.Count;
        for (int p = 0; p < kc; p++, a += 6, b += 2 * w)
        {
            TVec b0 = TOps.Load(in *b), b1 = TOps.Load(in *(b + w)), x;
            x = TOps.Broadcast(a[0]); c0a = TOps.MultiplyAdd(x, b0, c0a); c0b = TOps.MultiplyAdd(x, b1, c0b);
            x = TOps.Broadcast(a[1]); c1a = TOps.MultiplyAdd(x, b0, c1a); c1b = TOps.MultiplyAdd(x, b1, c1b);
            x = TOps.Broadcast(a[2]); c2a = TOps.MultiplyAdd(x, b0, c2a); c2b = TOps.MultiplyAdd(x, b1, c2b);
            x = TOps.Broadcast(a[3]); c3a = TOps.MultiplyAdd(x, b0, c3a); c3b = TOps.MultiplyAdd(x, b1, c3b);
            x = TOps.Broadcast(a[4]); c4a = TOps.MultiplyAdd(x, b0, c4a); c4b = TOps.MultiplyAdd(x, b1, c4b);
            x = TOps.Broadcast(a[5]); c5a = TOps.MultiplyAdd(x, b0, c5a); c5b = TOps.MultiplyAdd(x, b1, c5b);
        }
        TileStore<TVec, TOps>.Row(c, c0a, c0b, alpha, beta); TileStore<TVec, TOps>.Row(c + ldc, c1a, c1b, alpha, beta);
        TileStore<TVec, TOps>.Row(c + 2 * ldc, c2a, c2b, alpha, beta); TileStore<TVec, TOps>.Row(c + 3 * ldc, c3a, c3b, alpha, beta);
        TileStore<TVec, TOps>.Row(c + 4 * ldc, c4a, c4b, alpha, beta); TileStore<TVec, TOps>.Row(c + 5 * ldc, c5a, c5b, alpha, beta);
    }
}

internal static unsafe class TileStore<TVec, TOps> where TVec : struct where TOps : IVectorOps<TVec>
{
    /// <summary>One tile row of two vectors: <c>c = alpha*acc + beta*c</c>, not reading c when beta is 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Row(float* c, TVec acc0, TVec acc1, float alpha, float beta)
    {
        TVec va = TOps.Broadcast(alpha);
        float* c1 = c + TOps.Count;
        if (beta == 0f)
        {
            TOps.Store(TOps.Multiply(va, acc0), ref *c);
            TOps.Store(TOps.Multiply(va, acc1), ref *c1);
        }
        else
        {
            TVec vb = TOps.Broadcast(beta);
            TOps.Store(TOps.MultiplyAdd(va, acc0, TOps.Multiply(vb, TOps.Load(in *c))), ref *c);
            TOps.Store(TOps.MultiplyAdd(va, acc1, TOps.Multiply(vb, TOps.Load(in *c1))), ref *c1);
        }
    }
}
