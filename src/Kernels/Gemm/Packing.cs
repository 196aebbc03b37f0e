using System.Runtime.CompilerServices;

namespace Kernels.GemmInternals;

/// <summary>
/// Packs an MR-row panel of op(A): rows [i0, i0 + rows) and reduction columns [pc, pc + kc) into
/// <c>dst[p * mr + r]</c> (column-major within the panel), zero-filling rows rows..mr-1.
/// </summary>
internal unsafe interface IPackA
{
    void Pack(int i0, int rows, int mr, int pc, int kc, float* dst);
}

/// <summary>
/// Packs an NR-column panel of op(B): reduction rows [pc, pc + kc) and columns [j0, j0 + cols) into
/// <c>dst[p * nr + q]</c> (row-major within the panel), zero-filling columns cols..nr-1. A convolution supplies its
/// own packer that reads the image directly (im2col fused into packing), so no column matrix is ever stored.
/// </summary>
internal unsafe interface IPackB
{
    void Pack(int j0, int cols, int nr, int pc, int kc, float* dst);
}

/// <summary>op(A) of a row-major matrix with leading dimension lda.</summary>
internal readonly unsafe struct MatrixPackA(float* a, nint lda, bool transpose) : IPackA
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(int i0, int rows, int mr, int pc, int kc, float* dst)
    {
        if (transpose)
        {
            // op(A)[i, p] = A[p, i]: each p gives `rows` contiguous floats.
            for (int p = 0; p < kc; p++, dst += mr)
            {
                new ReadOnlySpan<float>(a + (pc + p) * lda + i0, rows).CopyTo(new Span<float>(dst, rows));
                new Span<float>(dst + rows, mr - rows).Clear();
            }
            return;
        }
        // op(A)[i, p] = A[i, p]: read each row contiguously, write it with stride mr (the panel stays in L1).
        for (int r = 0; r < rows; r++)
        {
            float* src = a + (i0 + r) * lda + pc;
            for (int p = 0; p < kc; p++) dst[p * mr + r] = src[p];
        }
        for (int r = rows; r < mr; r++)
            for (int p = 0; p < kc; p++) dst[p * mr + r] = 0f;
    }
}

/// <summary>op(B) of a row-major matrix with leading dimension ldb.</summary>
internal readonly unsafe struct MatrixPackB(float* b, nint ldb, bool transpose) : IPackB
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(int j0, int cols, int nr, int pc, int kc, float* dst)
    {
        if (!transpose)
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
}
