using System.Numerics;

namespace Kernels.Reference;

/// <summary>Oracle global average pooling: x (N, C, H, W) to y (N, C, 1, 1).</summary>
public static class GlobalAvgPool2D
{
    /// <summary><c>y[n,c] = sum_hw x[n,c,h,w] / (H*W)</c>.</summary>
    public static void Forward<T>(ReadOnlyNchwSpan<T> x, NchwSpan<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Validate(x.Shape, y.Shape, nameof(y));
        Guard.NoOverlap(y.Span, x.Span, nameof(y), nameof(x));
        for (int n = 0; n < x.Shape.N; n++)
        for (int c = 0; c < x.Shape.C; c++)
        {
            T sum = T.Zero;
            foreach (T v in x.Plane(n, c)) sum += v;
            y[n, c, 0, 0] = sum / T.CreateChecked(x.Shape.PlaneLength);
        }
    }

    /// <summary><c>dx[n,c,h,w] = dout[n,c] / (H*W)</c>.</summary>
    public static void Backward<T>(ReadOnlyNchwSpan<T> dout, NchwSpan<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Validate(dx.Shape, dout.Shape, nameof(dout));
        Guard.NoOverlap(dx.Span, dout.Span, nameof(dx), nameof(dout));
        for (int n = 0; n < dx.Shape.N; n++)
        for (int c = 0; c < dx.Shape.C; c++)
            dx.Plane(n, c).Fill(dout[n, c, 0, 0] / T.CreateChecked(dx.Shape.PlaneLength));
    }

    internal static void Validate(Shape4 x, Shape4 pooled, string name) => Guard.Shape(pooled, new Shape4(x.N, x.C, 1, 1), name, $"x {x}");
}
