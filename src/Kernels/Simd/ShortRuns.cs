using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kernels.Simd;

/// <summary>
/// Copy, clear and stride-2 gather of short runs (a few to a few hundred floats) inline, without a call into
/// Memmove: im2col and packing move rows in pieces of at most one GEMM panel (32 floats), where the call costs as
/// much as the copy. One driver picks the widest vector the run fills; the last vector overlaps the previous one
/// instead of a scalar tail, so nothing outside [dst, dst + n) is written.
/// </summary>
internal static unsafe class ShortRuns
{
    /// <summary>dst[0..n) = src[0..n); the ranges must not overlap.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(float* src, float* dst, int n) => Run<CopyOp>(src, dst, n);

    /// <summary>dst[0..n) = 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Clear(float* dst, int n) => Run<ClearOp>(null, dst, n);

    /// <summary>
    /// dst[i] = src[2 i] for i &lt; n (a stride-2 gather, as im2col of a stride-2 convolution needs). Vectors read
    /// src[2i, 2i + 2w) and deinterleave it, which reads one float past the last one needed: they are used only when
    /// src + 2n stays within limit, else (and for runs shorter than a vector) a plain loop reads only src[2i].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CopyEven(float* src, float* dst, int n, float* limit)
    {
        if (Vector128.IsHardwareAccelerated && n >= Vector128<float>.Count && src + 2L * n <= limit) Run<EvenOp>(src, dst, n);
        else for (int i = 0; i < n; i++) dst[i] = src[2 * i];
    }

    /// <summary>One short-run operation, written once for every width: element or vector i of dst from src.</summary>
    private interface IPieceOp
    {
        static abstract TVec At<TVec, TOps>(float* src, int i) where TVec : struct where TOps : IVectorOps<TVec>;
    }

    private readonly struct CopyOp : IPieceOp
    {
        public static TVec At<TVec, TOps>(float* src, int i) where TVec : struct where TOps : IVectorOps<TVec> => TOps.Load(in src[i]);
    }

    private readonly struct ClearOp : IPieceOp
    {
        public static TVec At<TVec, TOps>(float* src, int i) where TVec : struct where TOps : IVectorOps<TVec> => TOps.Zero;
    }

    private readonly struct EvenOp : IPieceOp
    {
        public static TVec At<TVec, TOps>(float* src, int i) where TVec : struct where TOps : IVectorOps<TVec> =>
            TOps.Even(TOps.Load(in src[2 * i]), TOps.Load(in src[2 * i + TOps.Count]));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Run<TOp>(float* src, float* dst, int n) where TOp : IPieceOp
    {
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count) Piece<Vector512<float>, V512, TOp>(src, dst, n);
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count) Piece<Vector256<float>, V256, TOp>(src, dst, n);
        else if (Vector128.IsHardwareAccelerated && n >= Vector128<float>.Count) Piece<Vector128<float>, V128, TOp>(src, dst, n);
        else Piece<float, ScalarOps, TOp>(src, dst, n);
    }

    /// <remarks>Requires n &gt;= TOps.Count, or any n for the one-lane ScalarOps.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Piece<TVec, TOps, TOp>(float* src, float* dst, int n) where TVec : struct where TOps : IVectorOps<TVec> where TOp : IPieceOp
    {
        int w = TOps.Count, i = 0;
        for (; i <= n - w; i += w) TOps.Store(TOp.At<TVec, TOps>(src, i), ref dst[i]);
        if (i < n) TOps.Store(TOp.At<TVec, TOps>(src, n - w), ref dst[n - w]);
    }
}
