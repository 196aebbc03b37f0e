using System.Numerics;

namespace Kernels.Reference;

/// <summary>
/// Oracle per-channel broadcast multiply and add: x (N, C, H, W) with an operand of shape (N, C, 1, 1) or
/// (1, C, 1, 1); backward sums over the broadcast axes (H, W, and N for a (1, C, 1, 1) operand).
/// </summary>
public static class ChannelBroadcast
{
    /// <summary><c>y[n,c,h,w] = x[n,c,h,w] * scale[n or 0, c]</c>. y may be the same memory as x.</summary>
    public static void Multiply<T>(ReadOnlyNchwSpan<T> x, ReadOnlyNchwSpan<T> scale, NchwSpan<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ValidateForward(x, scale, y, nameof(scale));
        Shape4 s = x.Shape;
        for (int n = 0; n < s.N; n++)
        for (int c = 0; c < s.C; c++)
        for (int h = 0; h < s.H; h++)
        for (int w = 0; w < s.W; w++)
            y[n, c, h, w] = x[n, c, h, w] * scale[scale.Shape.N == 1 ? 0 : n, c, 0, 0];
    }

    /// <summary><c>y[n,c,h,w] = x[n,c,h,w] + bias[n or 0, c]</c>. y may be the same memory as x.</summary>
    public static void Add<T>(ReadOnlyNchwSpan<T> x, ReadOnlyNchwSpan<T> bias, NchwSpan<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ValidateForward(x, bias, y, nameof(bias));
        Shape4 s = x.Shape;
        for (int n = 0; n < s.N; n++)
        for (int c = 0; c < s.C; c++)
        for (int h = 0; h < s.H; h++)
        for (int w = 0; w < s.W; w++)
            y[n, c, h, w] = x[n, c, h, w] + bias[bias.Shape.N == 1 ? 0 : n, c, 0, 0];
    }

    /// <summary><c>dx = dout * scale</c>, <c>dscale[n', c] = sum dout * x</c> over h, w (and n when scale is (1, C, 1, 1)).</summary>
    public static void MultiplyBackward<T>(ReadOnlyNchwSpan<T> dout, ReadOnlyNchwSpan<T> x, ReadOnlyNchwSpan<T> scale, NchwSpan<T> dx,
        NchwSpan<T> dscale) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ValidateMultiplyBackward(dout, x, scale, dx, dscale);
        Shape4 s = x.Shape;
        dscale.Span.Clear();
        for (int n = 0; n < s.N; n++)
        for (int c = 0; c < s.C; c++)
        for (int h = 0; h < s.H; h++)
        for (int w = 0; w < s.W; w++)
        {
            int o = scale.Shape.N == 1 ? 0 : n;
            dscale[o, c, 0, 0] += dout[n, c, h, w] * x[n, c, h, w];
            dx[n, c, h, w] = dout[n, c, h, w] * scale[o, c, 0, 0];
        }
    }

    /// <summary><c>dbias[n', c] = sum dout</c> over h, w (and n when bias is (1, C, 1, 1)).</summary>
    public static void AddBackward<T>(ReadOnlyNchwSpan<T> dout, NchwSpan<T> dbias) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ValidateOperand(dout.Shape, dbias.Shape, nameof(dbias));
        Shape4 s = dout.Shape;
        dbias.Span.Clear();
        for (int n = 0; n < s.N; n++)
        for (int c = 0; c < s.C; c++)
        for (int h = 0; h < s.H; h++)
        for (int w = 0; w < s.W; w++)
            dbias[dbias.Shape.N == 1 ? 0 : n, c, 0, 0] += dout[n, c, h, w];
    }

    internal static void ValidateOperand(Shape4 x, Shape4 operand, string name)
    {
        if (operand != new Shape4(x.N, x.C, 1, 1) && operand != new Shape4(1, x.C, 1, 1))
            Guard.Throw(name, $"{name} has shape {operand} but x {x} needs ({x.N}, {x.C}, 1, 1) or (1, {x.C}, 1, 1).");
    }

    internal static void ValidateForward<T>(ReadOnlyNchwSpan<T> x, ReadOnlyNchwSpan<T> operand, ReadOnlyNchwSpan<T> y, string operandName)
    {
        ValidateOperand(x.Shape, operand.Shape, operandName);
        Guard.Shape(y.Shape, x.Shape, nameof(y), $"x");
        Guard.NoPartialOverlap(y.Span, x.Span, nameof(y), nameof(x));
        Guard.NoOverlap(y.Span, operand.Span, nameof(y), operandName);
    }

    internal static void ValidateMultiplyBackward<T>(ReadOnlyNchwSpan<T> dout, ReadOnlyNchwSpan<T> x, ReadOnlyNchwSpan<T> scale,
        ReadOnlyNchwSpan<T> dx, ReadOnlyNchwSpan<T> dscale)
    {
        ValidateOperand(x.Shape, scale.Shape, nameof(scale));
        Guard.Shape(dout.Shape, x.Shape, nameof(dout), $"x");
        Guard.Shape(dx.Shape, x.Shape, nameof(dx), $"x");
        Guard.Shape(dscale.Shape, scale.Shape, nameof(dscale), $"scale");
        Guard.NoPartialOverlap(dx.Span, dout.Span, nameof(dx), nameof(dout));
        Guard.NoPartialOverlap(dx.Span, x.Span, nameof(dx), nameof(x));
        Guard.NoOverlap(dx.Span, scale.Span, nameof(dx), nameof(scale));
        Guard.NoOverlap(dscale.Span, dout.Span, nameof(dscale), nameof(dout));
        Guard.NoOverlap(dscale.Span, x.Span, nameof(dscale), nameof(x));
        Guard.NoOverlap(dscale.Span, dx.Span, nameof(dscale), nameof(dx));
    }
}
