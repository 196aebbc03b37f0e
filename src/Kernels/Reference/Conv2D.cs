using System.Numerics;

namespace Kernels.Reference;

/// <summary>
/// Oracle 2-D convolution (cross-correlation, as in every CNN library): textbook loops over the zero-padded
/// input, never optimised. x (N, C, H, W), w (F, C / G, HH, WW), b (F), y (N, F, Hout, Wout) with G = p.Groups and
/// <c>Hout = floor((H + padTop + padBottom - dilationH (HH - 1) - 1) / strideH) + 1</c> (see
/// <see cref="Geometry.Conv2DOutput"/>). Filter f belongs to group f / (F / G) and sees that group's C / G channels.
/// </summary>
public static class Conv2D
{
    /// <summary>
    /// <c>y[n,f,i,j] = b[f] + sum_{c,p,q} xpad[n, g*C/G + c, i*sH + p*dH, j*sW + q*dW] * w[f,c,p,q]</c> with g the group of
    /// f, over the zero-padded input: padding taps are multiplied like any other (IEEE: <c>0 * inf</c> is NaN), as the
    /// seed's <c>np.pad</c> did.
    /// </summary>
    public static void Forward<T>(ReadOnlyNchwSpan<T> x, ReadOnlyNchwSpan<T> w, ReadOnlySpan<T> b, Conv2DParams p, NchwSpan<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Validate(x, w, b.Length, p, y.Shape, nameof(y));
        Guard.NoOverlap(y.Span, x.Span, nameof(y), nameof(x));
        Guard.NoOverlap(y.Span, w.Span, nameof(y), nameof(w));
        Guard.NoOverlap(y.Span, b, nameof(y), nameof(b));
        Shape4 ys = y.Shape;
        int groupChannels = w.Shape.C, groupFilters = w.Shape.N / p.Groups;
        for (int n = 0; n < ys.N; n++)
        for (int f = 0; f < ys.C; f++)
        for (int i = 0; i < ys.H; i++)
        for (int j = 0; j < ys.W; j++)
        {
            T sum = T.Zero;
            for (int c = 0; c < groupChannels; c++)
            for (int pi = 0; pi < w.Shape.H; pi++)
            for (int qj = 0; qj < w.Shape.W; qj++)
            {
                (int h, int v) = Tap(p, i, j, pi, qj);
                sum += Padded(x, n, f / groupFilters * groupChannels + c, h, v) * w[f, c, pi, qj];
            }
            y[n, f, i, j] = sum + b[f];
        }
    }

    /// <summary>
    /// Gradients of the forward pass given dout (N, F, Hout, Wout): dx (N, C, H, W), dw (F, C / G, HH, WW) and
    /// db (F) are overwritten (not accumulated into). <c>db[f] = sum dout[:, f]</c>,
    /// <c>dw[f,c,p,q] = sum dout[n,f,i,j] * xpad[n, g*C/G + c, i*sH + p*dH, j*sW + q*dW]</c> (padding zeros multiplied, as
    /// forward), dx scatters <c>w * dout</c> back onto x (the padding's share is dropped).
    /// </summary>
    public static void Backward<T>(ReadOnlyNchwSpan<T> dout, ReadOnlyNchwSpan<T> x, ReadOnlyNchwSpan<T> w, Conv2DParams p,
        NchwSpan<T> dx, NchwSpan<T> dw, Span<T> db)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Validate(x, w, db.Length, p, dout.Shape, nameof(dout));
        Guard.Shape(dx.Shape, x.Shape, nameof(dx), $"x");
        Guard.Shape(dw.Shape, w.Shape, nameof(dw), $"w");
        GuardOutputs(dout.Span, x.Span, w.Span, dx.Span, dw.Span, db);

        dx.Span.Clear();
        dw.Span.Clear();
        db.Clear();
        Shape4 ys = dout.Shape;
        int groupChannels = w.Shape.C, groupFilters = w.Shape.N / p.Groups;
        for (int n = 0; n < ys.N; n++)
        for (int f = 0; f < ys.C; f++)
        for (int i = 0; i < ys.H; i++)
        for (int j = 0; j < ys.W; j++)
        {
            T g = dout[n, f, i, j];
            db[f] += g;
            for (int c = 0; c < groupChannels; c++)
            for (int pi = 0; pi < w.Shape.H; pi++)
            for (int qj = 0; qj < w.Shape.W; qj++)
            {
                (int h, int v) = Tap(p, i, j, pi, qj);
                int channel = f / groupFilters * groupChannels + c;
                dw[f, c, pi, qj] += g * Padded(x, n, channel, h, v);
                if (h >= 0 && h < x.Shape.H && v >= 0 && v < x.Shape.W) // dx of a padding zero is dropped
                    dx[n, channel, h, v] += g * w[f, c, pi, qj];
            }
        }
    }

    /// <summary>The input row and column (in x's coordinates, negative or past the end in the padding) tap (pi, qj) of
    /// output (i, j) reads.</summary>
    private static (int H, int V) Tap(Conv2DParams p, int i, int j, int pi, int qj) =>
        (i * p.StrideH - p.PadTop + pi * p.DilationH, j * p.StrideW - p.PadLeft + qj * p.DilationW);

    /// <summary>xpad[n, c, h + padTop, v + padLeft]: x inside its bounds, zero in the padding.</summary>
    private static T Padded<T>(ReadOnlyNchwSpan<T> x, int n, int c, int h, int v) where T : unmanaged, IFloatingPointIeee754<T> =>
        h >= 0 && h < x.Shape.H && v >= 0 && v < x.Shape.W ? x[n, c, h, v] : T.Zero;

    /// <summary>Shape checks shared by the oracle and the fast convolution.</summary>
    internal static void Validate<T>(ReadOnlyNchwSpan<T> x, ReadOnlyNchwSpan<T> w, int biasLength, Conv2DParams p, Shape4 output, string outputName)
    {
        Shape4 expected = Geometry.Conv2DOutput(x.Shape, w.Shape, biasLength, p);
        Guard.Shape(output, expected, outputName, $"the convolution of x {x.Shape} with w {w.Shape}");
    }

    /// <summary>The three gradients must not overlap each other or any input (each is cleared before the inputs are read).</summary>
    internal static void GuardOutputs<T>(ReadOnlySpan<T> dout, ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<T> dx, Span<T> dw, Span<T> db)
    {
        ReadOnlySpan<T> rdx = dx, rdw = dw, rdb = db;
        Guard.NoOverlap(rdx, dout, nameof(dx), nameof(dout));
        Guard.NoOverlap(rdx, x, nameof(dx), nameof(x));
        Guard.NoOverlap(rdx, w, nameof(dx), nameof(w));
        Guard.NoOverlap(rdw, dout, nameof(dw), nameof(dout));
        Guard.NoOverlap(rdw, x, nameof(dw), nameof(x));
        Guard.NoOverlap(rdw, w, nameof(dw), nameof(w));
        Guard.NoOverlap(rdw, rdx, nameof(dw), nameof(dx));
        Guard.NoOverlap(rdb, dout, nameof(db), nameof(dout));
        Guard.NoOverlap(rdb, x, nameof(db), nameof(x));
        Guard.NoOverlap(rdb, w, nameof(db), nameof(w));
        Guard.NoOverlap(rdb, rdx, nameof(db), nameof(dx));
        Guard.NoOverlap(rdb, rdw, nameof(db), nameof(dw));
    }
}
