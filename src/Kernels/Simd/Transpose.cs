using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kernels.Simd;

/// <summary>
/// Out-of-place transpose of a small strided matrix, for GEMM packing (panels whose reduction index is contiguous
/// in the source: op(A) = A, op(B) = B^T, and the convolution's im2col^T). Square blocks of the widest vector that
/// fits are transposed in registers by log2(width) rounds of interleaves (ZipLow/ZipHigh of rows i and i + w/2:
/// the perfect shuffle, whose w-fold repetition is the transpose); strips narrower than a block go to the next
/// narrower width, and scalar code takes the rest. Reads exactly the rows x cols source elements and writes exactly
/// the rows x cols destination elements.
/// </summary>
internal static unsafe class Transpose
{
    /// <summary><c>dst[c * dstStride + r] = src[r * srcStride + c]</c> for r &lt; rows, c &lt; cols; src and dst must not overlap.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Matrix(float* src, nint srcStride, int rows, int cols, float* dst, nint dstStride)
    {
        if (rows <= 0 || cols <= 0) return;
        int fit = Math.Min(rows, cols);
        if (Vector512.IsHardwareAccelerated && fit >= Vector512<float>.Count)
            Blocks<Vector512<float>, V512>(src, srcStride, rows, cols, dst, dstStride);
        else if (Vector256.IsHardwareAccelerated && fit >= Vector256<float>.Count)
            Blocks<Vector256<float>, V256>(src, srcStride, rows, cols, dst, dstStride);
        else if (Vector128.IsHardwareAccelerated && fit >= Vector128<float>.Count)
            Blocks<Vector128<float>, V128>(src, srcStride, rows, cols, dst, dstStride);
        else
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++)
                    dst[c * dstStride + r] = src[r * srcStride + c];
    }

    /// <summary>Whole w x w blocks, then the right strip (cols % w wide) and the bottom strip (rows % w high) recursively.</summary>
    private static void Blocks<TVec, TOps>(float* src, nint srcStride, int rows, int cols, float* dst, nint dstStride)
        where TVec : unmanaged where TOps : IVectorOps<TVec>
    {
        int w = TOps.Count, rowsInBlocks = rows / w * w, colsInBlocks = cols / w * w;
        TVec* rowsNow = stackalloc TVec[w], rowsNext = stackalloc TVec[w];
        for (int r0 = 0; r0 < rowsInBlocks; r0 += w)
            for (int c0 = 0; c0 < colsInBlocks; c0 += w)
                Block<TVec, TOps>(src + r0 * srcStride + c0, srcStride, dst + c0 * dstStride + r0, dstStride, rowsNow, rowsNext);
        Matrix(src + colsInBlocks, srcStride, rowsInBlocks, cols - colsInBlocks, dst + colsInBlocks * dstStride, dstStride);
        Matrix(src + rowsInBlocks * srcStride, srcStride, rows - rowsInBlocks, cols, dst + rowsInBlocks, dstStride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block<TVec, TOps>(float* src, nint srcStride, float* dst, nint dstStride, TVec* a, TVec* b)
        where TVec : unmanaged where TOps : IVectorOps<TVec>
    {
        int w = TOps.Count, half = w / 2;
        for (int r = 0; r < w; r++) a[r] = TOps.Load(in src[r * srcStride]);
        for (int step = 1; step < w; step *= 2)
        {
            for (int i = 0; i < half; i++)
            {
                b[2 * i] = TOps.ZipLow(a[i], a[i + half]);
                b[2 * i + 1] = TOps.ZipHigh(a[i], a[i + half]);
            }
            TVec* t = a;
            a = b;
            b = t;
        }
        for (int r = 0; r < w; r++) TOps.Store(a[r], ref dst[r * dstStride]);
    }
}
