using System.Numerics;

namespace Kernels.Reference;

// The activation oracles: each evaluates its formula in double (whatever T is) and rounds once to T, so the double
// instantiation is the "exact" value the fast float kernels are measured against (docs/semantics.md). Forms are the
// textbook ones, chosen only where a naive form would lose the double's accuracy (noted).  Each backward is
// dx[i] = dout[i] * f'(x[i]). Outputs may be the same memory as an input, never a shifted overlap.

/// <summary>Oracle logistic function <c>sigmoid(x) = 1 / (1 + e^-x)</c>.</summary>
public static class Sigmoid
{
    /// <summary><c>y[i] = sigmoid(x[i])</c>.</summary>
    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> => Unary.Forward(x, y, F);
    /// <summary><c>dx[i] = dout[i] * sigmoid(x) (1 - sigmoid(x))</c>.</summary>
    public static void Backward<T>(ReadOnlySpan<T> dout, ReadOnlySpan<T> x, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T> => Unary.Backward(dout, x, dx, D);

    // e^-|v| never overflows; the two branches keep both tails' relative accuracy.
    internal static double F(double v) => v >= 0 ? 1 / (1 + Math.Exp(-v)) : Math.Exp(v) / (1 + Math.Exp(v));
    internal static double D(double v)
    {
        double e = Math.Exp(-Math.Abs(v));
        return e / ((1 + e) * (1 + e));
    }
}

/// <summary>Oracle hyperbolic tangent.</summary>
public static class Tanh
{
    /// <summary><c>y[i] = tanh(x[i])</c>.</summary>
    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> => Unary.Forward(x, y, Math.Tanh);
    /// <summary><c>dx[i] = dout[i] * (1 - tanh^2(x)) = dout[i] / cosh^2(x)</c>.</summary>
    public static void Backward<T>(ReadOnlySpan<T> dout, ReadOnlySpan<T> x, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T> =>
        Unary.Backward(dout, x, dx, v => 1 / (Math.Cosh(v) * Math.Cosh(v))); // 1 - tanh^2 cancels for large |v|
}

/// <summary>Oracle hard sigmoid, PyTorch's <c>relu6(x + 3) / 6</c>.</summary>
public static class HardSigmoid
{
    /// <summary><c>y[i] = min(max(x[i] + 3, 0), 6) / 6</c>.</summary>
    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> =>
        Unary.Forward(x, y, v => Math.Min(Math.Max(v + 3, 0), 6) / 6);
    /// <summary><c>dx[i] = -3 &lt; x &lt; 3 ? dout[i] / 6 : 0</c> (0 at the kinks and for NaN, as PyTorch).</summary>
    public static void Backward<T>(ReadOnlySpan<T> dout, ReadOnlySpan<T> x, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T> =>
        Unary.Backward(dout, x, dx, v => v > -3 && v < 3 ? 1.0 / 6 : 0, keepNaN: false);
}

/// <summary>Oracle hard swish, PyTorch's <c>x * relu6(x + 3) / 6</c>.</summary>
public static class HardSwish
{
    /// <summary><c>y[i] = x * min(max(x + 3, 0), 6) / 6</c>; -0 at x = -inf (the limit).</summary>
    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> =>
        Unary.Forward(x, y, v => v == double.NegativeInfinity ? -0.0 : v * Math.Min(Math.Max(v + 3, 0), 6) / 6);
    /// <summary><c>dx[i] = x &lt; -3 ? 0 : x &lt;= 3 ? dout (x/3 + 1/2) : dout</c> (PyTorch's branches); NaN for NaN.</summary>
    public static void Backward<T>(ReadOnlySpan<T> dout, ReadOnlySpan<T> x, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T> =>
        Unary.Backward(dout, x, dx, v => v < -3 ? 0 : v <= 3 ? v / 3 + 0.5 : 1);
}

/// <summary>Oracle SiLU (swish) <c>x * sigmoid(x)</c>.</summary>
public static class Silu
{
    /// <summary><c>y[i] = x * sigmoid(x)</c>; -0 at x = -inf (the limit).</summary>
    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> =>
        Unary.Forward(x, y, v => v == double.NegativeInfinity ? -0.0 : v * Sigmoid.F(v));
    /// <summary><c>dx[i] = dout * s (1 + x (1 - s))</c>, s = sigmoid(x); 0 at x = -inf, 1 at +inf (the limits).</summary>
    public static void Backward<T>(ReadOnlySpan<T> dout, ReadOnlySpan<T> x, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T> =>
        Unary.Backward(dout, x, dx, v => double.IsInfinity(v) ? (v > 0 ? 1 : 0) : Sigmoid.F(v) * (1 + v * Sigmoid.F(-v)));
}

/// <summary>Oracle GELU, exact or tanh-approximated (PyTorch's <c>approximate</c>).</summary>
public static class Gelu
{
    /// <summary><c>y[i] = x Phi(x)</c> (None) or <c>x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2</c> (Tanh); -0 at -inf.</summary>
    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y, GeluApproximation approximation = GeluApproximation.None)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Unary.Forward(x, y, Validate(approximation) == GeluApproximation.None ? ErfF : TanhF);
    /// <summary><c>dx[i] = dout[i] * gelu'(x)</c> of the chosen formula; 0 at x = -inf, 1 at +inf.</summary>
    public static void Backward<T>(ReadOnlySpan<T> dout, ReadOnlySpan<T> x, Span<T> dx, GeluApproximation approximation = GeluApproximation.None)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Unary.Backward(dout, x, dx, Validate(approximation) == GeluApproximation.None ? ErfD : TanhD);

    internal static GeluApproximation Validate(GeluApproximation approximation)
    {
        if (approximation is not (GeluApproximation.None or GeluApproximation.Tanh))
            Guard.ThrowOutOfRange(nameof(approximation), approximation, $"approximation must be None or Tanh but is {(int)approximation}.");
        return approximation;
    }

    private const double K = 0.7978845608028654; // sqrt(2 / pi)

    /// <summary>Phi(v) = erfc(-v / sqrt 2) / 2: no 1 + erf cancellation for negative v.</summary>
    private static double Phi(double v) => 0.5 * Erf.Complement(-v / Math.Sqrt(2));
    private static double Density(double v) => Math.Exp(-0.5 * v * v) / Math.Sqrt(2 * Math.PI);
    private static double ErfF(double v) => v == double.NegativeInfinity ? -0.0 : v * Phi(v);
    private static double ErfD(double v) => double.IsInfinity(v) ? (v > 0 ? 1 : 0) : Phi(v) + v * Density(v);

    // 0.5 (1 + tanh(u)) = sigmoid(2u): 1 + tanh(u) cancels to 0 in double from u = -19 on, long before the result does.
    private static double TanhF(double v) => v == double.NegativeInfinity ? -0.0 : v * Sigmoid.F(2 * K * (v + 0.044715 * v * v * v));
    private static double TanhD(double v)
    {
        if (double.IsInfinity(v)) return v > 0 ? 1 : 0;
        double z = 2 * K * (v + 0.044715 * v * v * v), dz = 2 * K * (1 + 3 * 0.044715 * v * v);
        return Sigmoid.F(z) + v * Sigmoid.D(z) * dz;
    }
}

/// <summary>Oracle leaky ReLU.</summary>
public static class LeakyRelu
{
    /// <summary><c>y[i] = x &gt; 0 ? x : slope * x</c>.</summary>
    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y, T slope) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double s = Check(slope);
        Unary.Forward(x, y, v => v > 0 ? v : s * v);
    }

    /// <summary><c>dx[i] = x &gt; 0 ? dout : slope * dout</c> (slope also for NaN).</summary>
    public static void Backward<T>(ReadOnlySpan<T> dout, ReadOnlySpan<T> x, Span<T> dx, T slope) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double s = Check(slope);
        Unary.Backward(dout, x, dx, v => v > 0 ? 1 : s, keepNaN: false);
    }

    private static double Check<T>(T slope) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Guard.Finite(double.CreateTruncating(slope), nameof(slope));
        return double.CreateTruncating(slope);
    }
}

/// <summary>Oracle ELU.</summary>
public static class Elu
{
    /// <summary><c>y[i] = x &gt; 0 ? x : alpha (e^x - 1)</c>.</summary>
    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y, T alpha) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double a = Check(alpha);
        Unary.Forward(x, y, v => v > 0 ? v : a * ExpM1(v));
    }

    /// <summary><c>dx[i] = x &gt; 0 ? dout : dout * alpha e^x</c> (alpha at x = 0, as PyTorch).</summary>
    public static void Backward<T>(ReadOnlySpan<T> dout, ReadOnlySpan<T> x, Span<T> dx, T alpha) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double a = Check(alpha);
        Unary.Backward(dout, x, dx, v => v > 0 ? 1 : a * Math.Exp(v));
    }

    /// <summary>e^v - 1: the Taylor series for |v| &lt; 0.5 (where e^v - 1 cancels), e^v - 1 elsewhere.</summary>
    internal static double ExpM1(double v)
    {
        if (!(Math.Abs(v) < 0.5)) return Math.Exp(v) - 1;
        double term = v, sum = v;
        for (int k = 2; Math.Abs(term) > 1e-18 * Math.Abs(sum); k++) sum += term *= v / k;
        return sum;
    }

    private static double Check<T>(T alpha) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Guard.Finite(double.CreateTruncating(alpha), nameof(alpha));
        return double.CreateTruncating(alpha);
    }
}

/// <summary>Oracle clip (PyTorch's hardtanh; ReLU6 is min 0, max 6).</summary>
public static class Clip
{
    /// <summary><c>y[i] = min(max(x, min), max)</c>, IEEE: NaN stays NaN, +0 above -0.</summary>
    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y, T min, T max) where T : unmanaged, IFloatingPointIeee754<T>
    {
        (double lo, double hi) = (double.CreateTruncating(min), double.CreateTruncating(max));
        ValidateBounds(lo, hi);
        Unary.Forward(x, y, v => Math.Min(Math.Max(v, lo), hi));
    }

    /// <summary><c>dx[i] = min &lt; x &lt; max ? dout : 0</c> (0 at the bounds and for NaN).</summary>
    public static void Backward<T>(ReadOnlySpan<T> dout, ReadOnlySpan<T> x, Span<T> dx, T min, T max) where T : unmanaged, IFloatingPointIeee754<T>
    {
        (double lo, double hi) = (double.CreateTruncating(min), double.CreateTruncating(max));
        ValidateBounds(lo, hi);
        Unary.Backward(dout, x, dx, v => v > lo && v < hi ? 1 : 0, keepNaN: false);
    }

    internal static void ValidateBounds(double min, double max)
    {
        if (double.IsNaN(min)) Guard.ThrowOutOfRange(nameof(min), min, "min must not be NaN.");
        if (double.IsNaN(max)) Guard.ThrowOutOfRange(nameof(max), max, "max must not be NaN.");
        if (min > max) Guard.ThrowOutOfRange(nameof(max), max, $"max must be >= min ({min}) but is {max}.");
    }
}

/// <summary>The error function by textbook series, accurate to a few double ulps (for the GELU oracle).</summary>
internal static class Erf
{
    /// <summary>
    /// erfc(z) = 1 - erf(z). |z| &lt; 2: 1 - erf(z) with the all-positive series
    /// <c>erf(z) = 2/sqrt(pi) e^-z^2 sum 2^n z^(2n+1) / (1 3 5 ... (2n+1))</c> (z &lt; 0 loses nothing: 1 + |erf|);
    /// z &gt;= 2: the continued fraction <c>e^-z^2 / sqrt(pi) / (z + 1/2 / (z + 1 / (z + 3/2 / (z + ...))))</c>
    /// evaluated bottom-up with 200 terms (converged to double precision for z &gt;= 2); z &lt;= -2: 2 - erfc(-z).
    /// </summary>
    public static double Complement(double z)
    {
        if (double.IsNaN(z)) return z;
        if (z <= -2) return 2 - Complement(-z);
        if (z < 2)
        {
            double term = z, sum = z;
            for (int n = 1; Math.Abs(term) > 1e-17 * Math.Abs(sum); n++) sum += term *= 2 * z * z / (2 * n + 1);
            return 1 - 2 / Math.Sqrt(Math.PI) * Math.Exp(-z * z) * sum;
        }
        if (double.IsPositiveInfinity(z)) return 0;
        double f = z;
        for (int k = 200; k >= 1; k--) f = z + k / 2.0 / f;
        return Math.Exp(-z * z) / Math.Sqrt(Math.PI) / f;
    }
}

/// <summary>The loops every activation oracle shares: evaluate in double, round once to T.</summary>
internal static class Unary
{
    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y, Func<double, double> f) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Relu.ValidateForward(x, y);
        for (int i = 0; i < x.Length; i++) y[i] = T.CreateTruncating(f(double.CreateTruncating(x[i])));
    }

    /// <summary>
    /// dx = dout * f'(x), and +0 where f'(x) is exactly 0 (a gate, as ReLU's: also for an infinite or NaN dout);
    /// where x is NaN, dx is NaN unless <paramref name="keepNaN"/> is false (then f' decides).
    /// </summary>
    public static void Backward<T>(ReadOnlySpan<T> dout, ReadOnlySpan<T> x, Span<T> dx, Func<double, double> derivative, bool keepNaN = true)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Relu.ValidateBackward(dout, x, dx);
        for (int i = 0; i < x.Length; i++)
        {
            double v = double.CreateTruncating(x[i]);
            double d = keepNaN && double.IsNaN(v) ? double.NaN : derivative(v);
            dx[i] = d == 0 ? T.Zero : T.CreateTruncating(double.CreateTruncating(dout[i]) * d);
        }
    }
}
