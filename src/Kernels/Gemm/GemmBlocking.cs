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

    // Vector256, 6 x 16: BLIS's Haswell sgemm values (12 ymm accumulators of 16 registers).
    public static readonly GemmBlocking Avx2 = new(MR: 6, NR: 16, KC: 256, MC: 144, NC: 4080);

    // Vector128, 6 x 8: the same tile shape as Haswell at half width (fits SSE's 16 and NEON's 32 registers).
    public static readonly GemmBlocking Sse = new(MR: 6, NR: 8, KC: 256, MC: 120, NC: 4080);

    // Scalar, 6 x 2: the portable path; correctness matters here, not speed.
    public static readonly GemmBlocking Scalar = new(MR: 6, NR: 2, KC: 256, MC: 120, NC: 4080);

    /// <summary>The blocking of the width this process runs at.</summary>
    public static GemmBlocking Current { get; } = Isa.Width switch
    {
        SimdWidth.Vector512 => Avx512,
        SimdWidth.Vector256 => Avx2,
        SimdWidth.Vector128 => Sse,
        _ => Scalar,
    };
}
