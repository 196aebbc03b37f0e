using System.Numerics;

namespace Kernels.Reference;

/// <summary>
/// Oracle max pooling. x (N, C, H, W), y (N, C, Hout, Wout), windows PoolHeight x PoolWidth moved by Stride,
/// no padding; windows may overlap.
/// <para>Tie rule: backward sends a window's gradient to its FIRST maximal element in row-major window order
/// (PyTorch's rule). The cs231n notes used <c>window == max</c>, which gives the gradient to every tied element
/// and so over-counts it. A NaN in a window makes the output NaN and takes the gradient (first NaN wins).
/// The forward value is the IEEE 754-2019 maximum (<c>T.Max</c>), so a window of -0 and +0 gives +0 while its
/// gradient goes to whichever zero comes first (they compare equal).</para>
/// </summary>
public static class MaxPool2D
{
    /// <summary><c>y[n,c,i,j] = max_{p,q} x[n, c, i*stride + p, j*stride + q]</c> (IEEE maximum: NaN if the window holds a NaN).</summary>
    public static void Forward<T>(ReadOnlyNchwSpan<T> x, Pool2DParams p, NchwSpan<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Validate(x.Shape, p, y.Shape, nameof(y));
        Guard.NoOverlap(y.Span, x.Span, nameof(y), nameof(x));
        Shape4 ys = y.Shape;
        for (int n = 0; n < ys.N; n++)
        for (int c = 0; c < ys.C; c++)
        for (int i = 0; i < ys.H; i++)
        for (int j = 0; j < ys.W; j++)
        {
            T m = x[n, c, i * p.Stride, j * p.Stride];
            for (int pi = 0; pi < p.PoolHeight; pi++)
            for (int qj = 0; qj < p.PoolWidth; qj++)
                m = T.Max(m, x[n, c, i * p.Stride + pi, j * p.Stride + qj]);
            y[n, c, i, j] = m;
        }
    }

    /// <summary>
    /// dx (N, C, H, W) is overwritten: each dout[n,c,i,j] is added to the first maximal element of its window;
    /// contributions of overlapping windows add up.
    /// </summary>
    public static void Backward<T>(ReadOnlyNchwSpan<T> dout, ReadOnlyNchwSpan<T> x, Pool2DParams p, NchwSpan<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Validate(x.Shape, p, dout.Shape, nameof(dout));
        Guard.Shape(dx.Shape, x.Shape, nameof(dx), $"x");
        Guard.NoOverlap(dx.Span, dout.Span, nameof(dx), nameof(dout));
        Guard.NoOverlap(dx.Span, x.Span, nameof(dx), nameof(x));
        dx.Span.Clear();
        Shape4 ys = dout.Shape;
        for (int n = 0; n < ys.N; n++)
        for (int c = 0; c < ys.C; c++)
        for (int i = 0; i < ys.H; i++)
        for (int j = 0; j < ys.W; j++)
        {
            (int h, int v) = ArgMax(x, n, c, i, j, p);
            dx[n, c, h, v] += dout[n, c, i, j];
        }
    }

    /// <summary>Row and column of the first maximal (or first NaN) element of window (i, j).</summary>
    private static (int H, int W) ArgMax<T>(ReadOnlyNchwSpan<T> x, int n, int c, int i, int j, Pool2DParams p)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int bh = i * p.Stride, bw = j * p.Stride;
        T best = x[n, c, bh, bw];
        (int H, int W) at = (bh, bw);
        for (int pi = 0; pi < p.PoolHeight; pi++)
        for (int qj = 0; qj < p.PoolWidth; qj++)
        {
            if (T.IsNaN(best)) return at;
            T v = x[n, c, bh + pi, bw + qj];
            if (v > best || T.IsNaN(v)) (best, at) = (v, (bh + pi, bw + qj));
        }
        return at;
    }

    /// <summary>Shape checks shared by every pooling kernel, oracle and fast.</summary>
    internal static void Validate(Shape4 x, Pool2DParams p, Shape4 output, string outputName)
    {
        Shape4 expected = Geometry.Pool2DOutput(x, p);
        Guard.Shape(output, expected, outputName, $"pooling x {x} with {p.PoolHeight}x{p.PoolWidth} windows and stride {p.Stride}");
    }
}
