using System.Numerics;

namespace Kernels.Reference;

/// <summary>
/// Oracle mean (average) pooling. x (N, C, H, W), y (N, C, Hout, Wout), windows PoolHeight x PoolWidth moved by
/// Stride, no padding; every window lies inside x, so each divides by PoolHeight*PoolWidth.
/// </summary>
public static class AvgPool2D
{
    /// <summary><c>y[n,c,i,j] = sum_{p,q} x[n, c, i*stride + p, j*stride + q] / (PoolHeight*PoolWidth)</c>.</summary>
    public static void Forward<T>(ReadOnlyNchwSpan<T> x, Pool2DParams p, NchwSpan<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        MaxPool2D.Validate(x.Shape, p, y.Shape, nameof(y));
        Guard.NoOverlap(y.Span, x.Span, nameof(y), nameof(x));
        T count = T.CreateChecked(p.PoolHeight * p.PoolWidth);
        Shape4 ys = y.Shape;
        for (int n = 0; n < ys.N; n++)
        for (int c = 0; c < ys.C; c++)
        for (int i = 0; i < ys.H; i++)
        for (int j = 0; j < ys.W; j++)
        {
            T sum = T.Zero;
            for (int pi = 0; pi < p.PoolHeight; pi++)
            for (int qj = 0; qj < p.PoolWidth; qj++)
                sum += x[n, c, i * p.Stride + pi, j * p.Stride + qj];
            y[n, c, i, j] = sum / count;
        }
    }

    /// <summary>dx (N, C, H, W) is overwritten: each element receives <c>dout / (PoolHeight*PoolWidth)</c> from every window holding it.</summary>
    public static void Backward<T>(ReadOnlyNchwSpan<T> dout, Shape4 xShape, Pool2DParams p, NchwSpan<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        MaxPool2D.Validate(xShape, p, dout.Shape, nameof(dout));
        Guard.Shape(dx.Shape, xShape, nameof(dx), $"xShape");
        Guard.NoOverlap(dx.Span, dout.Span, nameof(dx), nameof(dout));
        dx.Span.Clear();
        T count = T.CreateChecked(p.PoolHeight * p.PoolWidth);
        Shape4 ys = dout.Shape;
        for (int n = 0; n < ys.N; n++)
        for (int c = 0; c < ys.C; c++)
        for (int i = 0; i < ys.H; i++)
        for (int j = 0; j < ys.W; j++)
        {
            T g = dout[n, c, i, j] / count;
            for (int pi = 0; pi < p.PoolHeight; pi++)
            for (int qj = 0; qj < p.PoolWidth; qj++)
                dx[n, c, i * p.Stride + pi, j * p.Stride + qj] += g;
        }
    }
}
