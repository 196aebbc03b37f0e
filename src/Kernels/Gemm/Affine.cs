using System.Numerics.Tensors;
using CommunityToolkit.HighPerformance;
using Kernels.GemmInternals;

namespace Kernels;

/// <summary>
/// Fully-connected layer through the packed GEMM; semantics of <see cref="Reference.Affine"/>. x (N, D) (a tensor's
/// <see cref="ReadOnlyNchwSpan{T}.AsMatrix"/>), w (D, M), b (M), y (N, M). Bitwise identical for every thread count.
/// </summary>
public static unsafe class Affine
{
    /// <summary><c>y = x * w + b</c> (b added to every row).</summary>
    /// <param name="x">Input (N, D).</param>
    /// <param name="w">Weights (D, M).</param>
    /// <param name="b">Bias (M).</param>
    /// <param name="y">Output (N, M); must not overlap x or w.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Forward(ReadOnlySpan2D<float> x, ReadOnlySpan2D<float> w, ReadOnlySpan<float> b, Span2D<float> y, int maxDegreeOfParallelism = 1)
    {
        Reference.Affine.Validate(x, w, b.Length, y, nameof(y));
        Matrices.NoOverlap(y, x, nameof(y), nameof(x));
        Matrices.NoOverlap(y, w, nameof(y), nameof(w));
        Guard.NoOverlap(Matrices.Extent<float>(y), b, nameof(y), nameof(b));
        int degree = Parallelism.Resolve(maxDegreeOfParallelism);
        for (int i = 0; i < y.Height; i++) b.CopyTo(y.GetRowSpan(i));
        Gemm.Multiply(MatrixTranspose.None, MatrixTranspose.None, 1f, x, w, 1f, y, degree);
    }

    /// <summary><c>dx = dout * w^T</c>, <c>dw = x^T * dout</c>, <c>db = column sums of dout</c> (rows added in order); all overwritten.</summary>
    /// <param name="dout">Upstream gradient (N, M).</param>
    /// <param name="x">The forward input (N, D).</param>
    /// <param name="w">The weights (D, M).</param>
    /// <param name="dx">Gradient of x (N, D).</param>
    /// <param name="dw">Gradient of w (D, M).</param>
    /// <param name="db">Gradient of b (M).</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Backward(ReadOnlySpan2D<float> dout, ReadOnlySpan2D<float> x, ReadOnlySpan2D<float> w, Span2D<float> dx, Span2D<float> dw, Span<float> db,
        int maxDegreeOfParallelism = 1)
    {
        Reference.Affine.ValidateBackward(dout, x, w, dx, dw, db);
        int degree = Parallelism.Resolve(maxDegreeOfParallelism);
        Gemm.Multiply(MatrixTranspose.None, MatrixTranspose.Transpose, 1f, dout, w, 0f, dx, degree);
        Gemm.Multiply(MatrixTranspose.Transpose, MatrixTranspose.None, 1f, x, dout, 0f, dw, degree);
        db.Clear();
        for (int i = 0; i < dout.Height; i++) TensorPrimitives.Add(db, dout.GetRowSpan(i), db);
    }
}
