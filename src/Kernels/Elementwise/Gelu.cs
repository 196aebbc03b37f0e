using Kernels.Elementwise;
using Kernels.Simd;

namespace Kernels;

/// <summary>Which formula <see cref="Gelu"/> evaluates (PyTorch's <c>approximate</c> argument).</summary>
public enum GeluApproximation
{
    /// <summary>The exact <c>x * Phi(x) = x (1 + erf(x / sqrt 2)) / 2</c> (PyTorch <c>approximate='none'</c>).</summary>
    None,
    /// <summary><c>x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2</c> (PyTorch <c>approximate='tanh'</c>).</summary>
    Tanh,
}

/// <summary>GELU over float spans of any shape, exact (erf) or tanh-approximated; same semantics as <see cref="Reference.Gelu"/>.</summary>
public static class Gelu
{
    /// <summary><c>y[i] = gelu(x[i])</c> by the chosen formula. y may be the same memory as x (in place), never a
    /// shifted overlap.</summary>
    /// <param name="x">Input, any shape, flat.</param>
    /// <param name="y">Output, as long as x.</param>
    /// <param name="approximation">The formula.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, GeluApproximation approximation = GeluApproximation.None, int maxDegreeOfParallelism = 1)
    {
        if (Reference.Gelu.Validate(approximation) == GeluApproximation.None) ElementwiseDriver.Forward<ErfForwardOp>(x, y, maxDegreeOfParallelism);
        else ElementwiseDriver.Forward<TanhForwardOp>(x, y, maxDegreeOfParallelism);
    }

    /// <summary><c>dx[i] = dout[i] * gelu'(x[i])</c> of the chosen formula. dx may be the same memory as dout or x.</summary>
    /// <param name="dout">Upstream gradient, as long as x.</param>
    /// <param name="x">The forward input.</param>
    /// <param name="dx">Gradient of x, as long as x.</param>
    /// <param name="approximation">The formula of the forward pass.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Backward(ReadOnlySpan<float> dout, ReadOnlySpan<float> x, Span<float> dx, GeluApproximation approximation = GeluApproximation.None,
        int maxDegreeOfParallelism = 1)
    {
        if (Reference.Gelu.Validate(approximation) == GeluApproximation.None) ElementwiseDriver.Backward<ErfBackwardOp>(dout, x, dx, maxDegreeOfParallelism);
        else ElementwiseDriver.Backward<TanhBackwardOp>(dout, x, dx, maxDegreeOfParallelism);
    }

    /// <summary>Phi(x) is 0 in float below -20 and 1 above 20 (x Phi(x) underflows from -14.6 on).</summary>
    private const float ErfRange = 20f;

    /// <summary>2 sqrt(2/pi) and 2 sqrt(2/pi) * 0.044715: the tanh form is x * sigmoid(z) with z = x (c1 + c3 x^2).</summary>
    private const float C1 = 1.59576912f, C3 = 0.0713548162f;

    internal readonly struct ErfForwardOp : IUnaryOp
    {
        public TVec Invoke<TVec, TOps>(TVec x) where TVec : struct where TOps : IVectorOps<TVec>
        {
            TVec xc = ActivationMath.Clamp<TVec, TOps>(x, -ErfRange, ErfRange);
            TVec cdf = ActivationMath.NormalCdf<TVec, TOps>(xc, out _, out TVec scale);
            return TOps.Multiply(TOps.Multiply(TOps.Max(x, TOps.Broadcast(-ErfRange)), cdf), scale);
        }
    }

    internal readonly struct ErfBackwardOp : IBinaryOp
    {
        public TVec Invoke<TVec, TOps>(TVec x, TVec dout) where TVec : struct where TOps : IVectorOps<TVec>
        {
            TVec xc = ActivationMath.Clamp<TVec, TOps>(x, -ErfRange, ErfRange);
            TVec cdf = ActivationMath.NormalCdf<TVec, TOps>(xc, out TVec density, out TVec scale);
            return TOps.Multiply(TOps.Multiply(TOps.MultiplyAdd(xc, density, cdf), dout), scale);
        }
    }

    // 0.5 (1 + tanh(u)) = sigmoid(2u): no 1 + tanh cancellation in the negative tail, where the result stays a
    // normal float down to x = -9.3.
    internal readonly struct TanhForwardOp : IUnaryOp
    {
        public TVec Invoke<TVec, TOps>(TVec x) where TVec : struct where TOps : IVectorOps<TVec>
        {
            TVec xm = TOps.Max(x, TOps.Broadcast(Silu.Floor));
            TVec z = TOps.Multiply(xm, TOps.MultiplyAdd(TOps.Multiply(xm, xm), TOps.Broadcast(C3), TOps.Broadcast(C1)));
            return TOps.Multiply(TOps.Multiply(xm, ActivationMath.Sigmoid<TVec, TOps>(z, out TVec scale)), scale);
        }
    }

    internal readonly struct TanhBackwardOp : IBinaryOp
    {
        public TVec Invoke<TVec, TOps>(TVec x, TVec dout) where TVec : struct where TOps : IVectorOps<TVec>
        {
            TVec xc = ActivationMath.Clamp<TVec, TOps>(x, Silu.Floor, -Silu.Floor);
            TVec x2 = TOps.Multiply(xc, xc);
            TVec z = TOps.Multiply(xc, TOps.MultiplyAdd(x2, TOps.Broadcast(C3), TOps.Broadcast(C1)));
            TVec dz = TOps.MultiplyAdd(x2, TOps.Broadcast(3 * C3), TOps.Broadcast(C1));
            TVec s = ActivationMath.Sigmoid<TVec, TOps>(z, out TVec complement, out TVec scale);
            TVec d = TOps.Multiply(s, TOps.MultiplyAdd(TOps.Multiply(xc, dz), complement, TOps.Broadcast(1f)));
            return TOps.Multiply(TOps.Multiply(d, dout), scale);
        }
    }
}
