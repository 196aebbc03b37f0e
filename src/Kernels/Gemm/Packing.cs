using System.Runtime.CompilerServices;
using Kernels.Simd;

namespace Kernels.GemmInternals;

/// <summary>
/// Packs an MR-row panel of op(A): rows [i0, i0 + rows) and reduction columns [pc, pc + kc) into
/// <c>dst[p * mr + r]</c> (column-major within the panel), zero-filling rows rows..mr-1.
/// </summary>
internal unsafe interface IPackA
{
    /// <summary>True when the source already is in panel layout: GemmCore then reads <see cref="Panel"/> in place and never calls Pack.</summary>
    static virtual bool InPlace => false;

    void Pack(int i0, int rows, int mr, int pc, int kc, float* dst);

    /// <summary>The packed MR x kc micro-panel for rows from i0 and reduction from pc, when <see cref="InPlace"/>.</summary>
    float* Panel(int i0, int mr, int pc) => null;
}

/// <summary>
/// Packs an NR-column panel of op(B): reduction rows [pc, pc + kc) and columns [j0, j0 + cols) into
/// <c>dst[p * nr + q]</c> (row-major within the panel), zero-filling columns cols..nr-1. A convolution supplies its
/// own packer that reads the image directly (im2col fused into packing), so no column matrix is ever stored.
/// </summary>
internal unsafe interface IPackB
{
    /// <summary>True when the source already is in panel layout: GemmCore then reads <see cref="Panel"/> in place and never calls Pack.</summary>
    static virtual bool InPlace => false;

    void Pack(int j0, int cols, int nr, int pc, int kc, float* dst);

    /// <summary>The packed kc x NR micro-panel for columns from j0 and reduction from pc, when <see cref="InPlace"/>.</summary>
    float* Panel(int j0, int nr, int pc) => null;
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
                ShortRuns.Copy(a + (pc + p) * lda + i0, dst, rows);
                ShortRuns.Clear(dst + rows, mr - rows);
            }
            return;
        }
        // op(A)[i, p] = A[i, p]: the panel is the transpose of a rows x kc block.
        Transpose.Matrix(a + i0 * lda + pc, lda, rows, kc, dst, mr);
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
                ShortRuns.Copy(b + (pc + p) * ldb + j0, dst, cols);
                ShortRuns.Clear(dst + cols, nr - cols);
            }
            return;
        }
        // op(B)[p, j] = B[j, p]: the panel is the transpose of a cols x kc block.
        Transpose.Matrix(b + j0 * ldb + pc, ldb, cols, kc, dst, nr);
        for (int q = cols; q < nr; q++)
            for (int p = 0; p < kc; p++) dst[p * nr + q] = 0f;
    }
}

/// <summary>
/// op(A) packed once in advance for the whole reduction (see <see cref="PrePacked.Pack{TA}"/>): panel after panel,
/// each MR x k column-major, so the MR x kc slice at any pc is contiguous and GemmCore reads it in place. The
/// convolution uses it for its filters, which every chunk of every image multiplies again.
/// </summary>
internal readonly unsafe struct PrePackedA(float* panels, int k) : IPackA
{
    public static bool InPlace => true;

    public float* Panel(int i0, int mr, int pc) => panels + (nint)(i0 / mr) * mr * k + (nint)pc * mr;

    public void Pack(int i0, int rows, int mr, int pc, int kc, float* dst) =>
        new ReadOnlySpan<float>(Panel(i0, mr, pc), kc * mr).CopyTo(new Span<float>(dst, kc * mr));
}

/// <summary>
/// op(B) (k x n) already in NR-column panels over the whole reduction: panel after panel, each k x NR row-major
/// (element (p, j) at <c>(j / NR) * NR * k + p * NR + j % NR</c>), zero-padded to a whole panel. The convolution's
/// im2col writes its columns in this layout, so they are never copied again.
/// </summary>
internal readonly unsafe struct PrePackedB(float* panels, int k) : IPackB
{
    public static bool InPlace => true;

    public float* Panel(int j0, int nr, int pc) => panels + (nint)(j0 / nr) * nr * k + (nint)pc * nr;

    public void Pack(int j0, int cols, int nr, int pc, int kc, float* dst) =>
        new ReadOnlySpan<float>(Panel(j0, nr, pc), kc * nr).CopyTo(new Span<float>(dst, kc * nr));
}

/// <summary>
/// op(A) = [W | b]: the m x k row-major filter matrix with the bias as one more column (index k), so a convolution
/// adds its bias inside the GEMM against a row of ones.
/// </summary>
internal readonly unsafe struct FiltersAndBiasPackA(float* w, float* b, int k) : IPackA
{
    public void Pack(int i0, int rows, int mr, int pc, int kc, float* dst)
    {
        int fromW = Math.Max(0, Math.Min(kc, k - pc));
        new MatrixPackA(w, k, transpose: false).Pack(i0, rows, mr, pc, fromW, dst);
        if (fromW == kc) return;
        float* column = dst + (nint)fromW * mr;
        for (int r = 0; r < mr; r++) column[r] = r < rows ? b[i0 + r] : 0f;
    }
}

internal static unsafe class PrePacked
{
    /// <summary>Floats needed to pre-pack an m x k op(A) in MR-row panels for this machine's microkernel.</summary>
    public static long Length(int m, int k)
    {
        int mr = GemmBlocking.For(m).MR;
        return ((long)m + mr - 1) / mr * mr * k;
    }

    /// <summary>Packs all of op(A) (m x k) once: panel after panel, each MR x k column-major over the whole reduction.</summary>
    public static void Pack<TA>(TA a, int m, int k, float* dst) where TA : struct, IPackA
    {
        int mr = GemmBlocking.For(m).MR; // the tile GemmCore.Run will pick for this M
        for (int i0 = 0; i0 < m; i0 += mr, dst += (nint)mr * k)
            a.Pack(i0, Math.Min(mr, m - i0), mr, 0, k, dst);
    }
}
