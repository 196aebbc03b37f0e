using Kernels.Elementwise;
using Kernels.Simd;

namespace Kernels;

/// <summary>Clip (PyTorch's hardtanh; ReLU6 is min 0, max 6) over float spans; same semantics as <see cref="Reference.Clip"/>.</summary>
public static class Clip
{
    /// <summary>
    /// <c>y[i] = min(max(x[i], min), max)</c> with IEEE minimum and maximum: NaN stays NaN, -0 becomes +0 when min
    /// is +0. y may be the same memory as x (in place), never a shifted overlap.
    /// </summary>
    /// <param name="x">Input, any shape, flat.</param>
    /// <param name="y">Output, as long as x.</param>
    /// <param name="min">Lower bound (not NaN; -inf allowed).</param>
    /// <param name="max">Upper bound, &gt;= min (not NaN; +inf allowed).</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, float min, float max, int maxDegreeOfParallelism = 1)
    {
        Reference.Clip.ValidateBounds(min, max);
        ElementwiseDriver.Forward(x, y, maxDegreeOfParallelism, new ForwardOp(min, max));
    }

    /// <summary><c>dx[i] = min &lt; x[i] &lt; max ? dout[i] : 0</c> (PyTorch's hardtanh: 0 at the bounds and for NaN).
    /// dx may be dout or x.</summary>
    /// <param name="dout">Upstream gradient, as long as x.</param>
    /// <param name="x">The forward input.</param>
    /// <param name="dx">Gradient of x, as long as x.</param>
    /// <param name="min">The forward pass's lower bound.</param>
    /// <param name="max">The forward pass's upper bound.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Backward(ReadOnlySpan<float> dout, ReadOnlySpan<float> x, Span<float> dx, float min, float max, int maxDegreeOfParallelism = 1)
    {
        Reference.Clip.ValidateBounds(min, max);
        ElementwiseDriver.Backward(dout, x, dx, maxDegreeOfParallelism, new BackwardOp(min, max));
    }

    internal readonly struct ForwardOp(float min, float max) : IUnaryOp
    {
        public TVec Invoke<TVec, TOps>(TVec x) where TVec : struct where TOps : IVectorOps<TVec> => ActivationMath.Clamp<TVec, TOps>(x, min, max);
    }

    internal readonly struct BackwardOp(float min, float max) : IBinaryOp
    {
        public TVec Invoke<TVec, TOps>(TVec x, TVec dout) where TVec : struct where TOps : IVectorOps<TVec> =>
            TOps.And(TOps.And(TOps.GreaterThan(x, TOps.Broadcast(min)), TOps.LessThan(x, TOps.Broadcast(max))), dout);
    }
}
