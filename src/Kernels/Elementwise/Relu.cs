using System.Numerics.Tensors;
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
        // Out of place, TensorPrimitives.Max(x, 0) (our exact semantics: IEEE maximum) took 0.62x the time of a copy
        // of the same bytes on 16M floats against 1.48x for our driver (it streams with non-temporal stores); in
        // place it took 8.6 ms against our driver's 3.7 ms. So each case takes the faster path.
        if (x.Overlaps(y)) ElementwiseDriver.Unary<ForwardOp>(x, y);
        else TensorPrimitives.Max(x, 0f, y);
    }

    /// <summary><c>dx[i] = x[i] &gt; 0 ? dout[i] : 0</c>. dx may be the same memory as dout or x.</summary>
    public static void Backward(ReadOnlySpan<float> dout, ReadOnlySpan<float> x, Span<float> dx)
    {
        Reference.Relu.ValidateBackward<float>(dout, x, dx);
        ElementwiseDriver.Binary<BackwardOp>(x, dout, dx);
    }

    private readonly struct ForwardOp : IUnaryOp
    {
        // IEEE maximum: NaN propagates and max(-0, +0) = +0, as the reference defines.
        public static TVec Invoke<TVec, TOps>(TVec x) where TVec : struct where TOps : IVectorOps<TVec> => TOps.Max(x, TOps.Zero);
    }

    private readonly struct BackwardOp : IBinaryOp
    {
        public static TVec Invoke<TVec, TOps>(TVec x, TVec dout) where TVec : struct where TOps : IVectorOps<TVec> => TOps.WherePositive(x, dout);
    }
}
