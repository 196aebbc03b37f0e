using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kernels.Simd;

/// <summary>
/// Copy and clear of short runs (a few to a few hundred floats) inline, without a call into Memmove: im2col moves
/// rows in pieces of at most one GEMM panel (32 floats), where the call costs as much as the copy. The last vector
/// overlaps the previous one instead of a scalar tail, so nothing outside [p, p + n) is touched.
/// </summary>
internal static unsafe class ShortRuns
{
    /// <summary>dst[0..n) = src[0..n); the ranges must not overlap.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(float* src, float* dst, int n)
    {
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            int i = 0;
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count) Vector512.Load(src + i).Store(dst + i);
            if (i < n) Vector512.Load(src + n - Vector512<float>.Count).Store(dst + n - Vector512<float>.Count);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count)
        {
            int i = 0;
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count) Vector256.Load(src + i).Store(dst + i);
            if (i < n) Vector256.Load(src + n - Vector256<float>.Count).Store(dst + n - Vector256<float>.Count);
        }
        else if (Vector128.IsHardwareAccelerated && n >= Vector128<float>.Count)
        {
            int i = 0;
            for (; i <= n - Vector128<float>.Count; i += Vector128<float>.Count) Vector128.Load(src + i).Store(dst + i);
            if (i < n) Vector128.Load(src + n - Vector128<float>.Count).Store(dst + n - Vector128<float>.Count);
        }
        else
        {
            for (int i = 0; i < n; i++) dst[i] = src[i];
        }
    }

    /// <summary>dst[0..n) = 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Clear(float* dst, int n)
    {
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            int i = 0;
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count) Vector512<float>.Zero.Store(dst + i);
            if (i < n) Vector512<float>.Zero.Store(dst + n - Vector512<float>.Count);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count)
        {
            int i = 0;
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count) Vector256<float>.Zero.Store(dst + i);
            if (i < n) Vector256<float>.Zero.Store(dst + n - Vector256<float>.Count);
        }
        else if (Vector128.IsHardwareAccelerated && n >= Vector128<float>.Count)
        {
            int i = 0;
            for (; i <= n - Vector128<float>.Count; i += Vector128<float>.Count) Vector128<float>.Zero.Store(dst + i);
            if (i < n) Vector128<float>.Zero.Store(dst + n - Vector128<float>.Count);
        }
        else
        {
            for (int i = 0; i < n; i++) dst[i] = 0f;
        }
    }

    /// <summary>
    /// dst[i] = src[2 i] for i &lt; n (a stride-2 gather, as im2col of a stride-2 convolution needs). Vectors read
    /// src[2i, 2i + 2w) and deinterleave it, which reads one float past the last one needed: they are used only when
    /// src + 2n stays within limit, else scalar code runs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CopyEven(float* src, float* dst, int n, float* limit)
    {
        if (src + 2L * n > limit) { for (int i = 0; i < n; i++) dst[i] = src[2 * i]; }
        else if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count) EvenRun<Vector512<float>, V512>(src, dst, n);
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count) EvenRun<Vector256<float>, V256>(src, dst, n);
        else if (Vector128.IsHardwareAccelerated && n >= Vector128<float>.Count) EvenRun<Vector128<float>, V128>(src, dst, n);
        else for (int i = 0; i < n; i++) dst[i] = src[2 * i];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void EvenRun<TVec, TOps>(float* src, float* dst, int n) where TVec : struct where TOps : IVectorOps<TVec>
    {
        int w = TOps.Count, i = 0;
        for (; i <= n - w; i += w) TOps.Store(TOps.Even(TOps.Load(in src[2 * i]), TOps.Load(in src[2 * i + w])), ref dst[i]);
        if (i < n)
        {
            i = n - w;
            TOps.Store(TOps.Even(TOps.Load(in src[2 * i]), TOps.Load(in src[2 * i + w])), ref dst[i]);
        }
    }
}
