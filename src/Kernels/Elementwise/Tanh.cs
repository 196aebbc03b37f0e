using Kernels.Elementwise;
using Kernels.Simd;

namespace Kernels;

/// <summary>Vectorized hyperbolic tangent over float spans of any shape; same semantics as <see cref="Reference.Tanh"/>.</summary>
public static class Tanh
{
    /// <summary><c>y[i] = tanh(x[i])</c>. y may be the same memory as x (in place), never a shifted overlap.</summary>
    /// <param name="x">Input, any shape, flat.</param>
    /// <param name="y">Output, as long as x.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, int maxDegreeOfParallelism = 1) =>
        ElementwiseDriver.Forward<ForwardOp>(x, y, maxDegreeOfParallelism);

    /// <summary><c>dx[i] = dout[i] * (1 - tanh^2(x[i]))</c>. dx may be the same memory as dout or x.</summary>
    /// <param name="dout">Upstream gradient, as long as x.</param>
    /// <param name="x">The forward input.</param>
    /// <param name="dx">Gradient of x, as long as x.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Backward(ReadOnlySpan<float> dout, ReadOnlySpan<float> x, Span<float> dx, int maxDegreeOfParallelism = 1) =>
        ElementwiseDriver.Backward<BackwardOp>(dout, x, dx, maxDegreeOfParallelism);

    // Not TensorPrimitives.Tanh: on this machine (.NET 10.0.0, AVX-512) it returned -5.96e-8 for tanh(0) and loses
    // the relative accuracy of small inputs (ActivationTests.Why_not_TensorPrimitives records it). Here tanh|x| = -m / (2 + m) with
    // m = e^(-2|x|) - 1 from the cancellation-free expm1 that ELU uses, and x's sign copied back (so -0 stays -0).
    internal readonly struct ForwardOp : IUnaryOp
    {
        public TVec Invoke<TVec, TOps>(TVec x) where TVec : struct where TOps : IVectorOps<TVec>
        {
            TVec m = ActivationMath.ExpM1<TVec, TOps>(TOps.Multiply(TOps.Abs(x), TOps.Broadcast(-2f)));
            TVec t = TOps.Divide(TOps.Subtract(TOps.Zero, m), TOps.Add(m, TOps.Broadcast(2f)));
            return TOps.Or(t, TOps.And(x, TOps.Broadcast(-0f)));
        }
    }

    // sech^2(x) = 4 sigma'(2x) = 4 e / (1 + e)^2 with e = e^-2|x|, not 1 - tanh^2 (which cancels to 0 for |x| > 9
    // while the exact value is representable down to |x| = 52).
    internal readonly struct BackwardOp : IBinaryOp
    {
        public TVec Invoke<TVec, TOps>(TVec x, TVec dout) where TVec : struct where TOps : IVectorOps<TVec>
        {
            TVec d = ActivationMath.SigmoidDerivative<TVec, TOps>(TOps.Add(x, x), out TVec scale);
            return TOps.Multiply(TOps.Multiply(TOps.Multiply(d, TOps.Broadcast(4f)), dout), scale);
        }
    }
}
