using Kernels.Elementwise;
using Kernels.Simd;

namespace Kernels;

/// <summary>PyTorch's hard sigmoid <c>relu6(x + 3) / 6</c> over float spans; same semantics as <see
/// cref="Reference.HardSigmoid"/>.</summary>
public static class HardSigmoid
{
    /// <summary><c>y[i] = min(max(x[i] + 3, 0), 6) / 6</c>. y may be the same memory as x, never a shifted overlap.</summary>
    /// <param name="x">Input, any shape, flat.</param>
    /// <param name="y">Output, as long as x.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, int maxDegreeOfParallelism = 1) =>
        ElementwiseDriver.Forward<ForwardOp>(x, y, maxDegreeOfParallelism);

    /// <summary><c>dx[i] = -3 &lt; x[i] &lt; 3 ? dout[i] * (1/6) : 0</c> (PyTorch's: 0 at the kinks). dx may be dout or x.</summary>
    /// <param name="dout">Upstream gradient, as long as x.</param>
    /// <param name="x">The forward input.</param>
    /// <param name="dx">Gradient of x, as long as x.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Backward(ReadOnlySpan<float> dout, ReadOnlySpan<float> x, Span<float> dx, int maxDegreeOfParallelism = 1) =>
        ElementwiseDriver.Backward<BackwardOp>(dout, x, dx, maxDegreeOfParallelism);

    // Divides by 6 as PyTorch does (a multiply by the float 1/6 differs from it by an ulp on some inputs).
    internal readonly struct ForwardOp : IUnaryOp
    {
        public TVec Invoke<TVec, TOps>(TVec x) where TVec : struct where TOps : IVectorOps<TVec> =>
            TOps.Divide(ActivationMath.Clamp<TVec, TOps>(TOps.Add(x, TOps.Broadcast(3f)), 0f, 6f), TOps.Broadcast(6f));
    }

    internal readonly struct BackwardOp : IBinaryOp
    {
        public TVec Invoke<TVec, TOps>(TVec x, TVec dout) where TVec : struct where TOps : IVectorOps<TVec> =>
            TOps.And(TOps.And(TOps.GreaterThan(x, TOps.Broadcast(-3f)), TOps.LessThan(x, TOps.Broadcast(3f))),
                TOps.Multiply(dout, TOps.Broadcast(1f / 6)));
    }
}
