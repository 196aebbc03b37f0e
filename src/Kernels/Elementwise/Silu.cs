using Kernels.Elementwise;
using Kernels.Simd;

namespace Kernels;

/// <summary>SiLU (swish) <c>x * sigmoid(x)</c> over float spans of any shape; same semantics as <see cref="Reference.Silu"/>.</summary>
public static class Silu
{
    /// <summary><c>y[i] = x[i] / (1 + e^-x[i])</c>. y may be the same memory as x (in place), never a shifted overlap.</summary>
    /// <param name="x">Input, any shape, flat.</param>
    /// <param name="y">Output, as long as x.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, int maxDegreeOfParallelism = 1) =>
        ElementwiseDriver.Forward<ForwardOp>(x, y, maxDegreeOfParallelism);

    /// <summary><c>dx[i] = dout[i] * s (1 + x (1 - s))</c> with <c>s = sigmoid(x[i])</c>. dx may be the same memory as dout or x.</summary>
    /// <param name="dout">Upstream gradient, as long as x.</param>
    /// <param name="x">The forward input.</param>
    /// <param name="dx">Gradient of x, as long as x.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Backward(ReadOnlySpan<float> dout, ReadOnlySpan<float> x, Span<float> dx, int maxDegreeOfParallelism = 1) =>
        ElementwiseDriver.Backward<BackwardOp>(dout, x, dx, maxDegreeOfParallelism);

    /// <summary>Below -110 every result is a signed zero in float; clamping there turns -inf * 0 into the limit -0.</summary>
    internal const float Floor = -110f;

    // Not x * TensorPrimitives.Sigmoid(x): that sigmoid is 0 below -88.7, where x * sigmoid(x) is still a normal float.
    internal readonly struct ForwardOp : IUnaryOp
    {
        public TVec Invoke<TVec, TOps>(TVec x) where TVec : struct where TOps : IVectorOps<TVec>
        {
            TVec xm = TOps.Max(x, TOps.Broadcast(Floor));
            return TOps.Multiply(TOps.Multiply(xm, ActivationMath.Sigmoid<TVec, TOps>(xm, out TVec scale)), scale);
        }
    }

    internal readonly struct BackwardOp : IBinaryOp
    {
        public TVec Invoke<TVec, TOps>(TVec x, TVec dout) where TVec : struct where TOps : IVectorOps<TVec>
        {
            TVec xc = ActivationMath.Clamp<TVec, TOps>(x, Floor, -Floor);
            TVec s = ActivationMath.Sigmoid<TVec, TOps>(xc, out TVec complement, out TVec scale);
            TVec d = TOps.Multiply(s, TOps.MultiplyAdd(xc, complement, TOps.Broadcast(1f)));
            return TOps.Multiply(TOps.Multiply(d, dout), scale);
        }
    }
}
