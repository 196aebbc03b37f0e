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
}
