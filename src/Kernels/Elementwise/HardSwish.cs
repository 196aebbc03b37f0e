using Kernels.Elementwise;
using Kernels.Simd;

namespace Kernels;

/// <summary>PyTorch's hard swish <c>x * relu6(x + 3) / 6</c> over float spans; same semantics as <see
/// cref="Reference.HardSwish"/>.</summary>
public static class HardSwish
{
    /// <summary><c>y[i] = x[i] * (min(max(x[i] + 3, 0), 6) / 6)</c>. y may be the same memory as x, never a shifted overlap.</summary>
    /// <param name="x">Input, any shape, flat.</param>
    /// <param name="y">Output, as long as x.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, int maxDegreeOfParallelism = 1) =>
        ElementwiseDriver.Forward<ForwardOp>(x, y, maxDegreeOfParallelism);

    /// <summary>
    /// PyTorch's <c>dx[i] = x &lt; -3 ? 0 : x &lt;= 3 ? dout * (x / 3 + 0.5) : dout</c> (so -0.5 dout at x = -3 and
    /// 1.5 dout at x = 3); NaN where x is NaN. dx may be the same memory as dout or x.
    /// </summary>
    /// <param name="dout">Upstream gradient, as long as x.</param>
    /// <param name="x">The forward input.</param>
    /// <param name="dx">Gradient of x, as long as x.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Backward(ReadOnlySpan<float> dout, ReadOnlySpan<float> x, Span<float> dx, int maxDegreeOfParallelism = 1) =>
        ElementwiseDriver.Backward<BackwardOp>(dout, x, dx, maxDegreeOfParallelism);

    // x * (relu6(x + 3) / 6), not PyTorch's (x * relu6(x + 3)) / 6, whose product overflows to inf from x = 5.7e37
    // (the dense sweep); the rounding is the same, two operations. x is raised to -4 first so that x = -inf gives
    // -0 (the limit; -inf * 0 would be NaN): every x <= -3 gives a signed zero either way.
    internal readonly struct ForwardOp : IUnaryOp
    {
        public TVec Invoke<TVec, TOps>(TVec x) where TVec : struct where TOps : IVectorOps<TVec>
        {
            TVec xm = TOps.Max(x, TOps.Broadcast(-4f));
            TVec gate = ActivationMath.Clamp<TVec, TOps>(TOps.Add(xm, TOps.Broadcast(3f)), 0f, 6f);
            return TOps.Multiply(xm, TOps.Divide(gate, TOps.Broadcast(6f)));
        }
    }

    internal readonly struct BackwardOp : IBinaryOp
    {
        public TVec Invoke<TVec, TOps>(TVec x, TVec dout) where TVec : struct where TOps : IVectorOps<TVec>
        {
            TVec ramp = TOps.Multiply(dout, TOps.Add(TOps.Divide(x, TOps.Broadcast(3f)), TOps.Broadcast(0.5f)));
            TVec g = TOps.Select(TOps.GreaterThan(x, TOps.Broadcast(3f)), dout, ramp);
            return TOps.AndNot(g, TOps.LessThan(x, TOps.Broadcast(-3f)));
        }
    }
}
