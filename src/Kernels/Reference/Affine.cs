using System.Numerics;
using CommunityToolkit.HighPerformance;

namespace Kernels.Reference;

/// <summary>
/// Oracle fully-connected layer. x is (N, D): a tensor (N, d1, ..., dk) read as N rows of D = d1*...*dk
/// (<see cref="NchwSpan{T}.AsMatrix"/>); w is (D, M); b is (M); y is (N, M).
/// </summary>
public static class Affine
{
    /// <summary><c>y[i,m] = b[m] + sum_d x[i,d] * w[d,m]</c>.</summary>
    public static void Forward<T>(ReadOnlySpan2D<T> x, ReadOnlySpan2D<T> w, ReadOnlySpan<T> b, Span2D<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Validate(x, w, b.Length, y, nameof(y));
        Matrices.NoOverlap(y, x, nameof(y), nameof(x));
        Matrices.NoOverlap(y, w, nameof(y), nameof(w));
        for (int i = 0; i < x.Height; i++)
        for (int m = 0; m < w.Width; m++)
        {
            T sum = T.Zero;
            for (int d = 0; d < x.Width; d++) sum += x[i, d] * w[d, m];
            y[i, m] = sum + b[m];
        }
    }

    /// <summary>
    /// Given dout (N, M): <c>dx = dout * w^T</c> (N, D), <c>dw = x^T * dout</c> (D, M), <c>db = sum over rows of dout</c> (M).
    /// All three are overwritten.
    /// </summary>
    public static void Backward<T>(ReadOnlySpan2D<T> dout, ReadOnlySpan2D<T> x, ReadOnlySpan2D<T> w, Span2D<T> dx, Span2D<T> dw, Span<T> db)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ValidateBackward(dout, x, w, dx, dw, db);
        for (int i = 0; i < x.Height; i++)
        for (int d = 0; d < x.Width; d++)
        {
            T sum = T.Zero;
            for (int m = 0; m < w.Width; m++) sum += dout[i, m] * w[d, m];
            dx[i, d] = sum;
        }
        for (int d = 0; d < x.Width; d++)
        for (int m = 0; m < w.Width; m++)
        {
            T sum = T.Zero;
            for (int i = 0; i < x.Height; i++) sum += x[i, d] * dout[i, m];
            dw[d, m] = sum;
        }
        for (int m = 0; m < w.Width; m++)
        {
            T sum = T.Zero;
            for (int i = 0; i < x.Height; i++) sum += dout[i, m];
            db[m] = sum;
        }
    }

    internal static void Validate<T>(ReadOnlySpan2D<T> x, ReadOnlySpan2D<T> w, int biasLength, ReadOnlySpan2D<T> y, string yName)
    {
        if (w.Height != x.Width)
            Guard.Throw("w", $"w has {w.Height} rows but x has {x.Width} features per row (x is {x.Height} x {x.Width}).");
        if (biasLength != w.Width)
            Guard.Throw("b", $"b has length {biasLength} but w has {w.Width} columns.");
        Matrices.Shape(y.Height, y.Width, x.Height, w.Width, yName, $"x ({x.Height} x {x.Width}) times w ({w.Height} x {w.Width})");
    }

    internal static void ValidateBackward<T>(ReadOnlySpan2D<T> dout, ReadOnlySpan2D<T> x, ReadOnlySpan2D<T> w, Span2D<T> dx, Span2D<T> dw, Span<T> db)
    {
        Validate(x, w, db.Length, dout, nameof(dout));
        Matrices.Shape(dx.Height, dx.Width, x.Height, x.Width, nameof(dx), $"x");
        Matrices.Shape(dw.Height, dw.Width, w.Height, w.Width, nameof(dw), $"w");
        ReadOnlySpan2D<T> rdx = dx, rdw = dw;
        ReadOnlySpan<T> rdb = db;
        Matrices.NoOverlap(rdx, dout, nameof(dx), nameof(dout));
        Matrices.NoOverlap(rdx, x, nameof(dx), nameof(x));
        Matrices.NoOverlap(rdx, w, nameof(dx), nameof(w));
        Matrices.NoOverlap(rdw, dout, nameof(dw), nameof(dout));
        Matrices.NoOverlap(rdw, x, nameof(dw), nameof(x));
        Matrices.NoOverlap(rdw, w, nameof(dw), nameof(w));
        Matrices.NoOverlap(rdw, rdx, nameof(dw), nameof(dx));
        Guard.NoOverlap(rdb, Matrices.Extent(dout), nameof(db), nameof(dout));
        Guard.NoOverlap(rdb, Matrices.Extent(rdx), nameof(db), nameof(dx));
        Guard.NoOverlap(rdb, Matrices.Extent(rdw), nameof(db), nameof(dw));
    }
}
