namespace Kernels.Diagnostics;

/// <summary>
/// Numerical gradients by central differences and a relative-error measure, for checking the backward pass of
/// any layer (ours or a user's). Work in double precision: in float the difference quotient loses most digits.
/// </summary>
public static class GradientCheck
{
    /// <summary>
    /// Fills <paramref name="grad"/> with <c>(f(x + h e_i) - f(x - h e_i)) / 2h</c> for every i. <paramref name="f"/>
    /// must read <paramref name="x"/> (e.g. close over the array behind it); each element is perturbed in place and
    /// restored bit for bit afterwards. Error: O(h^2) truncation plus O(eps * |f| / h) rounding.
    /// </summary>
    public static void NumericalGradient(Func<double> f, Span<double> x, Span<double> grad, double h = 1e-5)
    {
        ArgumentNullException.ThrowIfNull(f);
        Guard.Length(grad.Length, x.Length, nameof(grad), $"x");
        if (!(h > 0) || !double.IsFinite(h)) Guard.ThrowOutOfRange(nameof(h), h, $"h must be a finite number > 0 but is {h}.");
        for (int i = 0; i < x.Length; i++)
        {
            double old = x[i];
            x[i] = old + h;
            double plus = f();
            x[i] = old - h;
            double minus = f();
            x[i] = old;
            grad[i] = (plus - minus) / (2 * h);
        }
    }

    /// <summary>
    /// Scale-relative error <c>max_i |a[i] - b[i]| / max(max_i |a[i]|, max_i |b[i]|)</c> (0 when both are all zero).
    /// Unlike cs231n's element-wise <c>|a-b| / (|a|+|b|)</c> it does not blow up on components that are zero up to
    /// rounding, while still being scale-free.
    /// </summary>
    public static double RelativeError(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        Guard.Length(b.Length, a.Length, nameof(b), $"a");
        double diff = 0, scale = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = Math.Abs(a[i] - b[i]);
            if (double.IsNaN(d)) return double.NaN;
            diff = Math.Max(diff, d);
            scale = Math.Max(scale, Math.Max(Math.Abs(a[i]), Math.Abs(b[i])));
        }
        return scale == 0 ? 0 : diff / scale;
    }
}
