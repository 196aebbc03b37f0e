using Kernels.Elementwise;
using Kernels.Simd;

namespace Kernels;

/// <summary>Leaky ReLU over float spans of any shape; same semantics as <see cref="Reference.LeakyRelu"/>.</summary>
public static class LeakyRelu
{
    /// <summary><c>y[i] = x[i] &gt; 0 ? x[i] : slope * x[i]</c>. y may be the same memory as x, never a shifted overlap.</summary>
    /// <param name="x">Input, any shape, flat.</param>
    /// <param name="y">Output, as long as x.</param>
    /// <param name="slope">Slope for x &lt;= 0 (finite; PyTorch's default is 0.01).</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, float slope = 0.01f, int maxDegreeOfParallelism = 1)
    {
        Guard.Finite(slope, nameof(slope));
        ElementwiseDriver.Forward(x, y, maxDegreeOfParallelism, new ForwardOp(slope));
    }

    /// <summary><c>dx[i] = x[i] &gt; 0 ? dout[i] : slope * dout[i]</c>. dx may be the same memory as dout or x.</summary>
    /// <param name="dout">Upstream gradient, as long as x.</param>
    /// <param name="x">The forward input.</param>
    /// <param name="dx">Gradient of x, as long as x.</param>
    /// <param name="slope">The forward pass's slope.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Backward(ReadOnlySpan<float> dout, ReadOnlySpan<float> x, Span<float> dx, float slope = 0.01f, int maxDegreeOfParallelism = 1)
    {
        Guard.Finite(slope, nameof(slope));
        ElementwiseDriver.Backward(dout, x, dx, maxDegreeOfParallelism, new BackwardOp(slope));
    }

    internal readonly struct ForwardOp(float slope) : IUnaryOp
    {
        public TVec Invoke<TVec, TOps>(TVec x) where TVec : struct where TOps : IVectorOps<TVec> =>
            TOps.Select(TOps.GreaterThan(x, TOps.Zero), x, TOps.Multiply(x, TOps.Broadcast(slope)));
    }

    internal readonly struct BackwardOp(float slope) : IBinaryOp
    {
        public TVec Invoke<TVec, TOps>(TVec x, TVec dout) where TVec : struct where TOps : IVectorOps<TVec> =>
            TOps.Select(TOps.GreaterThan(x, TOps.Zero), dout, TOps.Multiply(dout, TOps.Broadcast(slope)));
    }
}
