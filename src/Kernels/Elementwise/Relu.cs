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
    public static void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        Reference.Relu.ValidateForward<float>(x, y);
        ElementwiseDriver.Unary<ForwardOp>(x, y);
    }

    /// <summary><c>dx[i] = x[i] &gt; 0 ? dout[i] : 0</c>. dx may be the same memory as dout or x.</summary>
    public static void Backward(ReadOnlySpan<float> dout, ReadOnlySpan<float> x, Span<float> dx)
    {
        Reference.Relu.ValidateBackward<float>(dout, x, dx);
        ElementwiseDriver.Binary<BackwardOp>(x, dout, dx);
    }

    private readonly struct ForwardOp : IUnaryOp
    {
        // Clears the lanes where x <= 0 (-0 too) and keeps every other lane's bits: a NaN comes out as the very same
        // NaN, payload and sign included, as in the reference. (TensorPrimitives.Max(x, 0) quiets signalling NaNs
        // on AVX-512.)
        public static TVec Invoke<TVec, TOps>(TVec x) where TVec : struct where TOps : IVectorOps<TVec> => TOps.AndNot(x, TOps.AtMostZero(x));
    }

    private readonly struct BackwardOp : IBinaryOp
    {
        public static TVec Invoke<TVec, TOps>(TVec x, TVec dout) where TVec : struct where TOps : IVectorOps<TVec> => TOps.WherePositive(x, dout);
    }
}
