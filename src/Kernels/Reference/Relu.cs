using System.Numerics;

namespace Kernels.Reference;

/// <summary>
/// Oracle rectified linear unit over tensors of any shape (flat spans).
/// <c>relu(x) = x</c> for x &gt; 0, +0 for x &lt;= 0 (also for -0), NaN for NaN (as PyTorch).
/// </summary>
public static class Relu
{
    /// <summary><c>y[i] = max(x[i], 0)</c>. y may be the same memory as x (in place), never a shifted overlap.</summary>
    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ValidateForward<T>(x, y);
        for (int i = 0; i < x.Length; i++)
            y[i] = T.IsNaN(x[i]) || x[i] > T.Zero ? x[i] : T.Zero;
    }

    /// <summary>
    /// <c>dx[i] = x[i] &gt; 0 ? dout[i] : 0</c> (0 also where x is NaN). dx may be the same memory as dout or x
    /// (in place); the other input is left untouched.
    /// </summary>
    public static void Backward<T>(ReadOnlySpan<T> dout, ReadOnlySpan<T> x, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ValidateBackward<T>(dout, x, dx);
        for (int i = 0; i < x.Length; i++)
            dx[i] = x[i] > T.Zero ? dout[i] : T.Zero;
    }

    internal static void ValidateForward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y)
    {
        Guard.Length(y.Length, x.Length, nameof(y), $"x");
        Guard.NoPartialOverlap(y, x, nameof(y), nameof(x));
    }

    internal static void ValidateBackward<T>(ReadOnlySpan<T> dout, ReadOnlySpan<T> x, ReadOnlySpan<T> dx)
    {
        Guard.Length(dout.Length, x.Length, nameof(dout), $"x");
        Guard.Length(dx.Length, x.Length, nameof(dx), $"x");
        Guard.NoPartialOverlap(dx, dout, nameof(dx), nameof(dout));
        Guard.NoPartialOverlap(dx, x, nameof(dx), nameof(x));
    }
}
