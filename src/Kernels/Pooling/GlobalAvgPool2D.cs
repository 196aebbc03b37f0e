using System.Numerics.Tensors;

namespace Kernels;

/// <summary>
/// Global average pooling, x (N, C, H, W) to y (N, C, 1, 1), with the semantics of
/// <see cref="Reference.GlobalAvgPool2D"/>: one TensorPrimitives sum per plane, planes in parallel.
/// </summary>
public static unsafe class GlobalAvgPool2D
{
    /// <summary><c>y[n,c] = sum_hw x[n,c,h,w] / (H*W)</c>.</summary>
    /// <param name="x">Input (N, C, H, W).</param>
    /// <param name="y">Output (N, C, 1, 1); must not overlap x.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Forward(ReadOnlyNchwSpan<float> x, NchwSpan<float> y, int maxDegreeOfParallelism = 1)
    {
        Reference.GlobalAvgPool2D.Validate(x.Shape, y.Shape, nameof(y));
        Guard.NoOverlap(y.Span, x.Span, nameof(y), nameof(x));
        int degree = Parallelism.Resolve(maxDegreeOfParallelism);
        fixed (float* px = x.Span, py = y.Span)
            Parallelism.For(x.Shape.N * x.Shape.C, Threads(degree, x.Shape), new Planes(px, py, x.Shape.PlaneLength, forward: true));
    }

    /// <summary><c>dx[n,c,h,w] = dout[n,c] / (H*W)</c> (overwritten).</summary>
    /// <param name="dout">Upstream gradient (N, C, 1, 1).</param>
    /// <param name="dx">Gradient of x (N, C, H, W); must not overlap dout.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Backward(ReadOnlyNchwSpan<float> dout, NchwSpan<float> dx, int maxDegreeOfParallelism = 1)
    {
        Reference.GlobalAvgPool2D.Validate(dx.Shape, dout.Shape, nameof(dout));
        Guard.NoOverlap(dx.Span, dout.Span, nameof(dx), nameof(dout));
        int degree = Parallelism.Resolve(maxDegreeOfParallelism);
        fixed (float* pd = dout.Span, pdx = dx.Span)
            Parallelism.For(dx.Shape.N * dx.Shape.C, Threads(degree, dx.Shape), new Planes(pdx, pd, dx.Shape.PlaneLength, forward: false));
    }

    private static int Threads(int degree, Shape4 x) => Threading.Partition.Threads(degree, x.Length, 1 << 15);

    private readonly struct Planes(float* planes, float* means, int hw, bool forward) : IIndexAction
    {
        public void Invoke(int plane)
        {
            var span = new Span<float>(planes + (long)plane * hw, hw);
            if (forward) means[plane] = TensorPrimitives.Sum<float>(span) / hw;
            else span.Fill(means[plane] / hw);
        }
    }
}
