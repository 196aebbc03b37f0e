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
            Blocks16(src, srcStride, rows, cols, dst, dstStride);
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

    /// <summary>
    /// <see cref="Blocks{TVec, TOps}"/> for Vector512 with the 16 rows of a block in registers (the generic block keeps
    /// its rows in a stack array: dw packing of x (8,64,56,56) spent 1.6 cycles per float there).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Blocks16(float* src, nint srcStride, int rows, int cols, float* dst, nint dstStride)
    {
        int rowsInBlocks = rows / 16 * 16, colsInBlocks = cols / 16 * 16;
        for (int r0 = 0; r0 < rowsInBlocks; r0 += 16)
            for (int c0 = 0; c0 < colsInBlocks; c0 += 16)
                Block16(src + r0 * srcStride + c0, srcStride, dst + c0 * dstStride + r0, dstStride);
        Matrix(src + colsInBlocks, srcStride, rowsInBlocks, cols - colsInBlocks, dst + colsInBlocks * dstStride, dstStride);
        Matrix(src + rowsInBlocks * srcStride, srcStride, rows - rowsInBlocks, cols, dst + rowsInBlocks, dstStride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block16(float* s, nint ss, float* d, nint ds)
    {
        Vector512<float> a0 = Vector512.Load(s), a1 = Vector512.Load(s + ss), a2 = Vector512.Load(s + 2 * ss), a3 = Vector512.Load(s + 3 * ss);
        Vector512<float> a4 = Vector512.Load(s + 4 * ss), a5 = Vector512.Load(s + 5 * ss), a6 = Vector512.Load(s + 6 * ss), a7 = Vector512.Load(s + 7 * ss);
        Vector512<float> a8 = Vector512.Load(s + 8 * ss), a9 = Vector512.Load(s + 9 * ss), a10 = Vector512.Load(s + 10 * ss), a11 = Vector512.Load(s + 11 * ss);
        Vector512<float> a12 = Vector512.Load(s + 12 * ss), a13 = Vector512.Load(s + 13 * ss), a14 = Vector512.Load(s + 14 * ss), a15 = Vector512.Load(s + 15 * ss);
        for (int round = 0; round < 4; round++)
        {
            Vector512<float> b0 = V512.ZipLow(a0, a8), b1 = V512.ZipHigh(a0, a8), b2 = V512.ZipLow(a1, a9), b3 = V512.ZipHigh(a1, a9), b4 = V512.ZipLow(a2, a10), b5 = V512.ZipHigh(a2, a10), b6 = V512.ZipLow(a3, a11), b7 = V512.ZipHigh(a3, a11);
            Vector512<float> b8 = V512.ZipLow(a4, a12), b9 = V512.ZipHigh(a4, a12), b10 = V512.ZipLow(a5, a13), b11 = V512.ZipHigh(a5, a13), b12 = V512.ZipLow(a6, a14), b13 = V512.ZipHigh(a6, a14), b14 = V512.ZipLow(a7, a15), b15 = V512.ZipHigh(a7, a15);
            (a0, a1, a2, a3, a4, a5, a6, a7) = (b0, b1, b2, b3, b4, b5, b6, b7);
            (a8, a9, a10, a11, a12, a13, a14, a15) = (b8, b9, b10, b11, b12, b13, b14, b15);
        }
        a0.Store(d); a1.Store(d + ds); a2.Store(d + 2 * ds); a3.Store(d + 3 * ds);
        a4.Store(d + 4 * ds); a5.Store(d + 5 * ds); a6.Store(d + 6 * ds); a7.Store(d + 7 * ds);
        a8.Store(d + 8 * ds); a9.Store(d + 9 * ds); a10.Store(d + 10 * ds); a11.Store(d + 11 * ds);
        a12.Store(d + 12 * ds); a13.Store(d + 13 * ds); a14.Store(d + 14 * ds); a15.Store(d + 15 * ds);
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
