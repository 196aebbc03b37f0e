using System.Numerics;
using CommunityToolkit.HighPerformance;

namespace Kernels.Reference;

/// <summary>
/// Oracle general matrix multiply: <c>C = alpha * op(A) * op(B) + beta * C</c> with the triple loop.
/// op(A) is M x K, op(B) is K x N, C is M x N. The views may have a pitch (leading dimension larger than the width).
/// </summary>
public static class Gemm
{
    /// <summary>
    /// Computes <c>C = alpha * op(A) * op(B) + beta * C</c>. When <paramref name="beta"/> is zero, C is overwritten
    /// and its old contents (even NaN) are never read, as in BLAS.
    /// </summary>
    public static void Multiply<T>(MatrixTranspose transA, MatrixTranspose transB, T alpha, ReadOnlySpan2D<T> a, ReadOnlySpan2D<T> b, T beta, Span2D<T> c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        (int m, int n, int k) = Validate(transA, transB, a, b, c);
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            T sum = T.Zero;
            for (int p = 0; p < k; p++)
            {
                T av = transA == MatrixTranspose.None ? a[i, p] : a[p, i];
                T bv = transB == MatrixTranspose.None ? b[p, j] : b[j, p];
                sum += av * bv;
            }
            c[i, j] = beta == T.Zero ? alpha * sum : alpha * sum + beta * c[i, j];
        }
    }

    /// <summary>Shape and overlap checks shared with the fast GEMM; returns (M, N, K).</summary>
    internal static (int M, int N, int K) Validate<T>(MatrixTranspose transA, MatrixTranspose transB, ReadOnlySpan2D<T> a, ReadOnlySpan2D<T> b, ReadOnlySpan2D<T> c)
    {
        if (transA is not (MatrixTranspose.None or MatrixTranspose.Transpose))
            Guard.ThrowOutOfRange(nameof(transA), transA, $"transA must be None or Transpose but is {(int)transA}.");
        if (transB is not (MatrixTranspose.None or MatrixTranspose.Transpose))
            Guard.ThrowOutOfRange(nameof(transB), transB, $"transB must be None or Transpose but is {(int)transB}.");
        bool ta = transA == MatrixTranspose.Transpose, tb = transB == MatrixTranspose.Transpose;
        int m = ta ? a.Width : a.Height, k = ta ? a.Height : a.Width;
        int kb = tb ? b.Width : b.Height, n = tb ? b.Height : b.Width;
        if (kb != k)
            Guard.Throw("b", $"op(b) has {kb} rows but op(a) has {k} columns (a is {a.Height} x {a.Width}, b is {b.Height} x {b.Width}).");
        Matrices.Shape(c.Height, c.Width, m, n, "c", $"op(a) * op(b) ({m} x {k} times {k} x {n})");
        Matrices.NoOverlap(c, a, "c", "a");
        Matrices.NoOverlap(c, b, "c", "b");
        return (m, n, k);
    }
}
