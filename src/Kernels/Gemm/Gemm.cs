using CommunityToolkit.HighPerformance;
using Kernels.GemmInternals;

namespace Kernels;

/// <summary>
/// Single-precision general matrix multiply, packed and register-blocked (BLIS structure, see docs/gemm.md).
/// Same semantics as <see cref="Reference.Gemm"/>; results may differ from it by rounding only (fused
/// multiply-adds, blocked summation), and are bitwise identical for every <c>maxDegreeOfParallelism</c>.
/// </summary>
public static class Gemm
{
    /// <summary>
    /// <c>C = alpha * op(A) * op(B) + beta * C</c>, op(A) M x K, op(B) K x N, C M x N, all row-major with optional
    /// pitch (leading dimension = Width + Pitch). When beta is 0, C is overwritten without being read.
    /// </summary>
    /// <param name="transA">Whether op(A) is A or its transpose.</param>
    /// <param name="transB">Whether op(B) is B or its transpose.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="a">A: M x K, or K x M when transposed.</param>
    /// <param name="b">B: K x N, or N x K when transposed.</param>
    /// <param name="beta">Scale of the old C; 0 overwrites.</param>
    /// <param name="c">C: M x N; must not overlap A or B.</param>
    /// <param name="maxDegreeOfParallelism">1 (default) runs on the calling thread; -1 uses every core; n &gt; 1 at most n threads.</param>
    public static unsafe void Multiply(MatrixTranspose transA, MatrixTranspose transB, float alpha, ReadOnlySpan2D<float> a, ReadOnlySpan2D<float> b,
        float beta, Span2D<float> c, int maxDegreeOfParallelism = 1)
    {
        (int m, int n, int k) = Reference.Gemm.Validate<float>(transA, transB, a, b, c);
        int degree = Parallelism.Resolve(maxDegreeOfParallelism);
        fixed (float* pa = &a.DangerousGetReference())
        fixed (float* pb = &b.DangerousGetReference())
        fixed (float* pc = &c.DangerousGetReference())
        {
            GemmCore.Run(transA == MatrixTranspose.Transpose, transB == MatrixTranspose.Transpose, m, n, k, alpha,
                pa, LeadingDimension(a), pb, LeadingDimension(b), beta, pc, LeadingDimension(c), degree);
        }
    }

    private static nint LeadingDimension(ReadOnlySpan2D<float> m) => m.Width + Matrices.Pitch(m);
}
