using Kernels.Elementwise;
using Kernels.Simd;

namespace Kernels;

/// <summary>Vectorized logistic function over float spans of any shape; same semantics as <see cref="Reference.Sigmoid"/>.</summary>
public static class Sigmoid
{
    /// <summary><c>y[i] = 1 / (1 + e^-x[i])</c>. y may be the same memory as x (in place), never a shifted overlap.</summary>
    /// <param name="x">Input, any shape, flat.</param>
    /// <param name="y">Output, as long as x.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, int maxDegreeOfParallelism = 1) =>
        ElementwiseDriver.Forward<ForwardOp>(x, y, maxDegreeOfParallelism);

    /// <summary><c>dx[i] = dout[i] * sigma(x[i]) (1 - sigma(x[i]))</c>. dx may be the same memory as dout or x.</summary>
    /// <param name="dout">Upstream gradient, as long as x.</param>
    /// <param name="x">The forward input.</param>
    /// <param name="dx">Gradient of x, as long as x.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Backward(ReadOnlySpan<float> dout, ReadOnlySpan<float> x, Span<float> dx, int maxDegreeOfParallelism = 1) =>
        ElementwiseDriver.Backward<BackwardOp>(dout, x, dx, maxDegreeOfParallelism);

    // Not TensorPrimitives.Sigmoid: it computes 1 / (1 + e^-x), whose e^-x overflows for x < -88.7, so it returns 0
    // where the exact value is a subnormal float (sigmoid(-100) = 3.7e-44; ActivationTests.Why_not_TensorPrimitives records it). The vector
    // exponential below is the one TensorPrimitives.Exp runs; e^-|x| never overflows.
    internal readonly struct ForwardOp : IUnaryOp
    {
        public TVec Invoke<TVec, TOps>(TVec x) where TVec : struct where TOps : IVectorOps<TVec> =>
            TOps.Multiply(ActivationMath.Sigmoid<TVec, TOps>(x, out TVec scale), scale);
    }

    internal readonly struct BackwardOp : IBinaryOp
    {
        public TVec Invoke<TVec, TOps>(TVec x, TVec dout) where TVec : struct where TOps : IVectorOps<TVec> =>
            TOps.Multiply(TOps.Multiply(ActivationMath.SigmoidDerivative<TVec, TOps>(x, out TVec scale), dout), scale);
    }
}
