using Kernels.Elementwise;
using Kernels.Simd;

namespace Kernels;

/// <summary>ELU over float spans of any shape; same semantics as <see cref="Reference.Elu"/>.</summary>
public static class Elu
{
    /// <summary><c>y[i] = x[i] &gt; 0 ? x[i] : alpha * (e^x[i] - 1)</c>. y may be the same memory as x, never a shifted overlap.</summary>
    /// <param name="x">Input, any shape, flat.</param>
    /// <param name="y">Output, as long as x.</param>
    /// <param name="alpha">Scale of the negative part (finite; PyTorch's default is 1).</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, float alpha = 1f, int maxDegreeOfParallelism = 1)
    {
        Guard.Finite(alpha, nameof(alpha));
        ElementwiseDriver.Forward(x, y, maxDegreeOfParallelism, new ForwardOp(alpha));
    }

    /// <summary><c>dx[i] = x[i] &gt; 0 ? dout[i] : dout[i] * alpha * e^x[i]</c> (PyTorch's: alpha at x = 0). dx may be dout or x.</summary>
    /// <param name="dout">Upstream gradient, as long as x.</param>
    /// <param name="x">The forward input.</param>
    /// <param name="dx">Gradient of x, as long as x.</param>
    /// <param name="alpha">The forward pass's alpha.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Backward(ReadOnlySpan<float> dout, ReadOnlySpan<float> x, Span<float> dx, float alpha = 1f, int maxDegreeOfParallelism = 1)
    {
        Guard.Finite(alpha, nameof(alpha));
        ElementwiseDriver.Backward(dout, x, dx, maxDegreeOfParallelism, new BackwardOp(alpha));
    }

    // e^x - 1 cancels for small |x| (a 1e-5 input would lose 17 of 24 bits): ActivationMath.ExpM1 does not.
    internal readonly struct ForwardOp(float alpha) : IUnaryOp
    {
        public TVec Invoke<TVec, TOps>(TVec x) where TVec : struct where TOps : IVectorOps<TVec>
        {
            TVec expm1 = ActivationMath.ExpM1<TVec, TOps>(x);
            return TOps.Select(TOps.GreaterThan(x, TOps.Zero), x, TOps.Multiply(expm1, TOps.Broadcast(alpha)));
        }
    }

    internal readonly struct BackwardOp(float alpha) : IBinaryOp
    {
        public TVec Invoke<TVec, TOps>(TVec x, TVec dout) where TVec : struct where TOps : IVectorOps<TVec> =>
            TOps.Select(TOps.GreaterThan(x, TOps.Zero), dout, TOps.Multiply(TOps.Multiply(dout, TOps.Broadcast(alpha)), TOps.Exp(x)));
    }
}
