using Kernels.Elementwise;
using Kernels.Simd;

namespace Kernels;

/// <summary>
/// Vectorized ReLU over float spans of any shape; same semantics as <see cref="Reference.Relu"/>:
/// <c>relu(x) = x</c> for x &gt; 0, +0 for x &lt;= 0 (also -0), NaN for NaN.
/// </summary>
public static class Relu
{
    /// <summary><c>y[i] = max(x[i], 0)</c>. y may be the same memory as x (in place), never a shifted overlap.</summary>
    /// <param name="x">Input, any shape, flat.</param>
    /// <param name="y">Output, as long as x.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads
    /// (used from 128K elements on: each thread takes at least 64K).</param>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, int maxDegreeOfParallelism = 1) =>
        ElementwiseDriver.Forward<ForwardOp>(x, y, maxDegreeOfParallelism);

    /// <summary><c>dx[i] = x[i] &gt; 0 ? dout[i] : 0</c>. dx may be the same memory as dout or x.</summary>
    /// <param name="dout">Upstream gradient, as long as x.</param>
    /// <param name="x">The forward input.</param>
    /// <param name="dx">Gradient of x, as long as x.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Backward(ReadOnlySpan<float> dout, ReadOnlySpan<float> x, Span<float> dx, int maxDegreeOfParallelism = 1) =>
        ElementwiseDriver.Backward<BackwardOp>(dout, x, dx, maxDegreeOfParallelism);

    private readonly struct ForwardOp : IUnaryOp
    {
        // Clears the lanes where x <= 0 (-0 too) and keeps every other lane's bits: a NaN comes out as the very same
        // NaN, payload and sign included, as in the reference. (TensorPrimitives.Max(x, 0) quiets signalling NaNs
        // on AVX-512.)
        public TVec Invoke<TVec, TOps>(TVec x) where TVec : struct where TOps : IVectorOps<TVec> => TOps.AndNot(x, TOps.AtMostZero(x));
    }

    private readonly struct BackwardOp : IBinaryOp
    {
        public TVec Invoke<TVec, TOps>(TVec x, TVec dout) where TVec : struct where TOps : IVectorOps<TVec> => TOps.WherePositive(x, dout);
    }
}
