using Kernels.Pooling;

namespace Kernels;

/// <summary>
/// Vectorized max pooling with the semantics of <see cref="Reference.MaxPool2D"/> (bit for bit): x (N, C, H, W),
/// y (N, C, Hout, Wout). 2x2 and 3x3 windows of stride 2 run vectorized along output rows; other windows take a
/// general path. Backward follows the first-maximum tie rule (first NaN wins). Planes run in parallel when
/// <c>maxDegreeOfParallelism</c> allows; each plane's result does not depend on it.
/// </summary>
public static unsafe class MaxPool2D
{
    /// <summary><c>y[n,c,i,j] = max of the window at (i*stride, j*stride)</c>.</summary>
    /// <param name="x">Input (N, C, H, W).</param>
    /// <param name="p">Window and stride.</param>
    /// <param name="y">Output (N, C, Hout, Wout); must not overlap x.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Forward(ReadOnlyNchwSpan<float> x, Pool2DParams p, NchwSpan<float> y, int maxDegreeOfParallelism = 1)
    {
        Reference.MaxPool2D.Validate(x.Shape, p, y.Shape, nameof(y));
        Guard.NoOverlap(y.Span, x.Span, nameof(y), nameof(x));
        int degree = Parallelism.Resolve(maxDegreeOfParallelism);
        fixed (float* px = x.Span, py = y.Span)
            Parallelism.For(x.Shape.N * x.Shape.C, Planes.Threads(degree, x.Shape), new Planes(px, null, py, x.Shape, y.Shape, p, Planes.Kind.MaxForward));
    }

    /// <summary>dx (N, C, H, W) is overwritten: each dout element goes to the first maximum of its window; overlapping windows add.</summary>
    /// <param name="dout">Upstream gradient (N, C, Hout, Wout).</param>
    /// <param name="x">The forward input (N, C, H, W).</param>
    /// <param name="p">Window and stride of the forward pass.</param>
    /// <param name="dx">Gradient of x; must not overlap dout or x.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Backward(ReadOnlyNchwSpan<float> dout, ReadOnlyNchwSpan<float> x, Pool2DParams p, NchwSpan<float> dx, int maxDegreeOfParallelism = 1)
    {
        Reference.MaxPool2D.Validate(x.Shape, p, dout.Shape, nameof(dout));
        Guard.Shape(dx.Shape, x.Shape, nameof(dx), $"x");
        Guard.NoOverlap(dx.Span, dout.Span, nameof(dx), nameof(dout));
        Guard.NoOverlap(dx.Span, x.Span, nameof(dx), nameof(x));
        int degree = Parallelism.Resolve(maxDegreeOfParallelism);
        fixed (float* pd = dout.Span, px = x.Span, pdx = dx.Span)
            Parallelism.For(x.Shape.N * x.Shape.C, Planes.Threads(degree, x.Shape), new Planes(px, pd, pdx, x.Shape, dout.Shape, p, Planes.Kind.MaxBackward));
    }
}
