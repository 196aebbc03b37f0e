using Kernels.Pooling;

namespace Kernels;

/// <summary>
/// Vectorized average pooling with the semantics of <see cref="Reference.AvgPool2D"/> (bit for bit: the same
/// summation order): x (N, C, H, W), y (N, C, Hout, Wout). 2x2 stride-2 windows run vectorized.
/// </summary>
public static unsafe class AvgPool2D
{
    /// <summary><c>y[n,c,i,j] = mean of the window at (i*stride, j*stride)</c>.</summary>
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
            Parallelism.For(x.Shape.N * x.Shape.C, Planes.Threads(degree, x.Shape), new Planes(px, null, py, x.Shape, y.Shape, p, Planes.Kind.AvgForward));
    }

    /// <summary>dx (N, C, H, W) is overwritten: each element receives dout / (PoolHeight*PoolWidth) from every window holding it.</summary>
    /// <param name="dout">Upstream gradient (N, C, Hout, Wout).</param>
    /// <param name="xShape">Shape of the forward input.</param>
    /// <param name="p">Window and stride of the forward pass.</param>
    /// <param name="dx">Gradient of x; must not overlap dout.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Backward(ReadOnlyNchwSpan<float> dout, Shape4 xShape, Pool2DParams p, NchwSpan<float> dx, int maxDegreeOfParallelism = 1)
    {
        Reference.MaxPool2D.Validate(xShape, p, dout.Shape, nameof(dout));
        Guard.Shape(dx.Shape, xShape, nameof(dx), $"xShape");
        Guard.NoOverlap(dx.Span, dout.Span, nameof(dx), nameof(dout));
        int degree = Parallelism.Resolve(maxDegreeOfParallelism);
        fixed (float* pd = dout.Span, pdx = dx.Span)
            Parallelism.For(xShape.N * xShape.C, Planes.Threads(degree, xShape), new Planes(null, pd, pdx, xShape, dout.Shape, p, Planes.Kind.AvgBackward));
    }
}
