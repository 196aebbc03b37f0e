using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kernels.Simd;

namespace Kernels.GemmInternals;

/// <summary>
/// Cache blocking of the packed GEMM, as data (BLIS registers these next to each kernel). MR x NR is the
/// microkernel's register tile; KC is the depth of a packed panel (a KC x NR panel of B should stay in L1 while
/// it is reused across the ir loop); MC x KC of packed A should stay in L2; KC x NC of packed B in L3.
/// </summary>
internal sealed record GemmBlocking(int MR, int NR, int KC, int MC, int NC)
{
    // Vector512, 12 x 32: 24 zmm accumulators + 2 B vectors + 1 broadcast of the 32 registers. A throw-away
    // prototype on this machine measured ~94-97% of FMA peak for the tile alone; KC 256 keeps the 32 KiB B panel in
    // L1 (48 KiB), MC 144 = 12 tiles keeps 144 KiB of packed A in L2.
    public static readonly GemmBlocking Avx512 = new(MR: 12, NR: 32, KC: 256, MC: 144, NC: 4096);

    // Vector512, 8 x 32: for M that 8-row panels fit much better than 12-row ones (see For).
    public static readonly GemmBlocking Avx512Narrow = new(MR: 8, NR: 32, KC: 256, MC: 144, NC: 4096);

    // Vector256, 6 x 16: BLIS's Haswell sgemm values (12 ymm accumulators of 16 registers).
    public static readonly GemmBlocking Avx2 = new(MR: 6, NR: 16, KC: 256, MC: 144, NC: 4080);

    // Vector128, 6 x 8: the same tile shape as Haswell at half width (fits SSE's 16 and NEON's 32 registers).
    public static readonly GemmBlocking Sse = new(MR: 6, NR: 8, KC: 256, MC: 120, NC: 4080);

    // Scalar, 6 x 2: the portable path; correctness matters here, not speed.
    public static readonly GemmBlocking Scalar = new(MR: 6, NR: 2, KC: 256, MC: 120, NC: 4080);

    /// <summary>
    /// The blocking for a product with M rows: with Vector512, the 8-row tile when it wastes at least 5 points less
    /// of the last row panel than the 12-row one (M = 25: 78 % vs 69 % of computed rows used; M = 32: 100 % vs
    /// 89 %; M = 64: 100 % vs 89 %); otherwise <see cref="Current"/>. Depends on M only, never on threads.
    /// </summary>
    public static GemmBlocking For(int m)
    {
        if (Current != Avx512) return Current;
        double Used(int mr) => (double)m / ((m + mr - 1) / mr * mr);
        return Used(8) >= Used(12) + 0.05 ? Avx512Narrow : Avx512;
    }

    /// <summary>The blocking of the width this process runs at.</summary>
    public static GemmBlocking Current { get; } = Isa.Width switch
    {
        SimdWidth.Vector512 => Avx512,
        SimdWidth.Vector256 => Avx2,
        SimdWidth.Vector128 => Sse,
        _ => Scalar,
    };
}

/// <summary>Code that runs on one microkernel: the GEMM's loops, the pre-packed products, the direct convolution's rows.</summary>
internal interface ITileAction
{
    /// <summary>Runs with microkernel <typeparamref name="TK"/>, whose tile and cache blocking are <paramref name="blocking"/>.</summary>
    void Run<TK>(GemmBlocking blocking) where TK : IMicroKernel;
}

/// <summary>
/// The one place that maps the process's vector width (and, with AVX-512, the product's M) to a microkernel:
/// <see cref="GemmBlocking.For"/> picks the blocking, and this picks the kernel with that tile.
/// </summary>
internal static class MicroKernels
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<TAction>(int m, ref TAction action) where TAction : struct, ITileAction
    {
        GemmBlocking blocking = GemmBlocking.For(m);
        switch (Isa.Width)
        {
            case SimdWidth.Vector512 when blocking == GemmBlocking.Avx512Narrow:
                action.Run<MicroKernel8x2V<Vector512<float>, V512>>(blocking);
                break;
            case SimdWidth.Vector512: action.Run<MicroKernel12x2V<Vector512<float>, V512>>(blocking); break;
            case SimdWidth.Vector256: action.Run<MicroKernel6x2V<Vector256<float>, V256>>(blocking); break;
            case SimdWidth.Vector128: action.Run<MicroKernel6x2V<Vector128<float>, V128>>(blocking); break;
            default: action.Run<MicroKernel6x2V<float, ScalarOps>>(blocking); break;
        }
    }
}
