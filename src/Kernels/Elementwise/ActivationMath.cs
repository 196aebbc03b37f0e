using System.Runtime.CompilerServices;
using Kernels.Simd;

namespace Kernels.Elementwise;

/// <summary>
/// The pieces the smooth activations share, written once for every width. Results that fall below float's normal
/// range are computed scaled: a helper returns <c>value / scale</c> and a <c>scale</c> of 1, or of e^-64 where an
/// exponential would otherwise pass through subnormal numbers (which keep fewer bits) before being multiplied by x;
/// the caller multiplies by scale last, so a tiny result is rounded once. The shift by 64 is exact (Sterbenz).
/// </summary>
internal static class ActivationMath
{
    /// <summary>e^-64 rounded to float (its 0.5-ulp error is part of the stated bounds).</summary>
    public const float ExpMinus64 = 1.60381089e-28f;

    /// <summary>Exponential arguments below this are shifted up by 64 (their exponential is below 2^-92).</summary>
    private const float Deep = -64f;

    /// <summary>
    /// The logistic function: returns <c>sigma(z) / scale</c>. e = e^-|z| never overflows; sigma(z) = 1 / (1 + e) for
    /// z &gt;= 0 and e / (1 + e) for z &lt; 0, so both tails keep their relative accuracy (no 1 - tiny).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Sigmoid<TVec, TOps>(TVec z, out TVec scale) where TVec : struct where TOps : IVectorOps<TVec>
    {
        TVec e = SmallExp<TVec, TOps>(z, out TVec onePlus, out TVec negative, out scale);
        return TOps.Divide(TOps.Select(negative, e, TOps.Broadcast(1f)), onePlus);
    }

    /// <summary>sigma(z) / scale as the other overload, and <c>1 - sigma(z)</c> (not scaled), each to full relative accuracy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Sigmoid<TVec, TOps>(TVec z, out TVec complement, out TVec scale) where TVec : struct where TOps : IVectorOps<TVec>
    {
        TVec e = SmallExp<TVec, TOps>(z, out TVec onePlus, out TVec negative, out scale);
        TVec one = TOps.Broadcast(1f);
        complement = TOps.Divide(TOps.Select(negative, one, e), onePlus);
        return TOps.Divide(TOps.Select(negative, e, one), onePlus);
    }

    /// <summary>
    /// The logistic derivative <c>sigma'(z) = sigma(z) (1 - sigma(z)) = e / (1 + e)^2</c> with e = e^-|z|, returned
    /// divided by scale (even in z, so the scaling follows |z|). 4 sigma'(2x) is tanh'(x) = sech^2(x).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec SigmoidDerivative<TVec, TOps>(TVec z, out TVec scale) where TVec : struct where TOps : IVectorOps<TVec>
    {
        TVec e = ScaledExp<TVec, TOps>(TOps.Subtract(TOps.Zero, TOps.Abs(z)), out scale);
        TVec onePlus = TOps.Add(TOps.Broadcast(1f), TOps.Multiply(e, scale));
        return TOps.Divide(e, TOps.Multiply(onePlus, onePlus));
    }

    /// <summary>e^-|z| (scaled when z &lt; -64), 1 + e^-|z|, and the mask of negative lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec SmallExp<TVec, TOps>(TVec z, out TVec onePlus, out TVec negative, out TVec scale)
        where TVec : struct where TOps : IVectorOps<TVec>
    {
        negative = TOps.LessThan(z, TOps.Zero);
        TVec deep = TOps.LessThan(z, TOps.Broadcast(Deep));
        scale = TOps.Select(deep, TOps.Broadcast(ExpMinus64), TOps.Broadcast(1f));
        TVec e = TOps.Exp(TOps.Add(TOps.Subtract(TOps.Zero, TOps.Abs(z)), TOps.And(deep, TOps.Broadcast(64f))));
        onePlus = TOps.Add(TOps.Broadcast(1f), TOps.Multiply(e, scale));
        return e;
    }

    /// <summary>Returns <c>e^z / scale</c>: e^(z + 64) with scale e^-64 where z &lt; -64, e^z with scale 1 elsewhere.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec ScaledExp<TVec, TOps>(TVec z, out TVec scale) where TVec : struct where TOps : IVectorOps<TVec>
    {
        TVec deep = TOps.LessThan(z, TOps.Broadcast(Deep));
        scale = TOps.Select(deep, TOps.Broadcast(ExpMinus64), TOps.Broadcast(1f));
        return TOps.Exp(TOps.Add(z, TOps.And(deep, TOps.Broadcast(64f))));
    }

    /// <summary>
    /// The standard normal distribution <c>Phi(x) = (1 + erf(x / sqrt 2)) / 2</c> and density <c>phi(x)</c>, both
    /// divided by scale (e^-64 for x &lt; -11), for x in [-20, 20] (callers clamp; beyond, Phi is 0 or 1 in float).
    /// <para>|x| &lt; 0.99: <c>0.5 + x R(x^2)</c>, R the Taylor series of erf to x^16 (truncation below 2e-9).
    /// Elsewhere: <c>Q = erfc(|x| / sqrt 2) / 2 = t e^(-x^2/2) e^(P(t)) / 2</c> with <c>t = 1 / (1 + |x| / (2 sqrt 2))</c>,
    /// P a degree-10 least-squares fit of <c>log(erfc(z) / t) + z^2</c> on z in [0.69, 10.6] (fit error 2.3e-9,
    /// tests/Kernels.Tests/Fixtures/fit_erfc.py), and Phi = Q below 0, 1 - Q above. x^2 is split exactly into
    /// hi + lo (Veltkamp, no FMA needed, so every ISA leg has the same accuracy) and e^(-hi/2) takes the exact part:
    /// the rounding of x^2 would otherwise cost |x|^2 / 2 ulps in the tail.</para>
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec NormalCdf<TVec, TOps>(TVec x, out TVec density, out TVec scale) where TVec : struct where TOps : IVectorOps<TVec>
    {
        TVec split = TOps.Multiply(x, TOps.Broadcast(4097f));
        TVec xh = TOps.Subtract(split, TOps.Subtract(split, x)), xl = TOps.Subtract(x, xh);
        TVec hi = TOps.Multiply(x, x);
        TVec lo = TOps.Add(TOps.Add(TOps.Subtract(TOps.Multiply(xh, xh), hi), TOps.Multiply(TOps.Add(xh, xh), xl)), TOps.Multiply(xl, xl));
        TVec halfLo = TOps.Multiply(lo, TOps.Broadcast(0.5f));

        TVec deep = TOps.LessThan(x, TOps.Broadcast(-11f));
        scale = TOps.Select(deep, TOps.Broadcast(ExpMinus64), TOps.Broadcast(1f));
        TVec gauss = TOps.Exp(TOps.Add(TOps.Multiply(hi, TOps.Broadcast(-0.5f)), TOps.And(deep, TOps.Broadcast(64f)))); // e^(-hi/2) / scale
        density = TOps.Multiply(TOps.Multiply(gauss, TOps.Subtract(TOps.Broadcast(1f), halfLo)), TOps.Broadcast(0.398942280f));

        TVec ax = TOps.Abs(x);
        TVec t = TOps.Divide(TOps.Broadcast(1f), TOps.MultiplyAdd(ax, TOps.Broadcast(0.353553391f), TOps.Broadcast(1f)));
        TVec p = TOps.Broadcast(1.630692121e-01f);
        p = TOps.MultiplyAdd(p, t, TOps.Broadcast(-4.826440693e-01f));
        p = TOps.MultiplyAdd(p, t, TOps.Broadcast(2.676514626e-01f));
        p = TOps.MultiplyAdd(p, t, TOps.Broadcast(5.246555326e-01f));
        p = TOps.MultiplyAdd(p, t, TOps.Broadcast(-6.683121287e-01f));
        p = TOps.MultiplyAdd(p, t, TOps.Broadcast(1.761322123e-01f));
        p = TOps.MultiplyAdd(p, t, TOps.Broadcast(-1.931545038e-01f));
        p = TOps.MultiplyAdd(p, t, TOps.Broadcast(1.061101271e-01f));
        p = TOps.MultiplyAdd(p, t, TOps.Broadcast(3.719937663e-01f));
        p = TOps.MultiplyAdd(p, t, TOps.Broadcast(1.000225153e+00f));
        p = TOps.MultiplyAdd(p, t, TOps.Broadcast(-1.265519434e+00f));
        TVec q = TOps.Multiply(TOps.Multiply(TOps.Multiply(t, TOps.Broadcast(0.5f)), gauss), TOps.Exp(TOps.Subtract(p, halfLo)));
        TVec tail = TOps.Select(TOps.LessThan(x, TOps.Zero), q, TOps.Subtract(TOps.Broadcast(1f), q));

        TVec r = TOps.Broadcast(2.273529824e-09f);
        r = TOps.MultiplyAdd(r, hi, TOps.Broadcast(-4.122667415e-08f));
        r = TOps.MultiplyAdd(r, hi, TOps.Broadcast(6.659693516e-07f));
        r = TOps.MultiplyAdd(r, hi, TOps.Broadcast(-9.444656260e-06f));
        r = TOps.MultiplyAdd(r, hi, TOps.Broadcast(1.154346876e-04f));
        r = TOps.MultiplyAdd(r, hi, TOps.Broadcast(-1.187328215e-03f));
        r = TOps.MultiplyAdd(r, hi, TOps.Broadcast(9.973557010e-03f));
        r = TOps.MultiplyAdd(r, hi, TOps.Broadcast(-6.649038007e-02f));
        r = TOps.MultiplyAdd(r, hi, TOps.Broadcast(3.989422804e-01f));
        TVec central = TOps.MultiplyAdd(x, r, TOps.Broadcast(0.5f));
        return TOps.Select(TOps.LessThan(ax, TOps.Broadcast(0.99f)), central, tail);
    }

    /// <summary>
    /// e^x - 1 for x &lt;= 0 without cancellation: above -0.5 the Taylor series to x^9 (truncation below 3e-10
    /// relative), below it e^x - 1 (at least 0.39 in magnitude, so the subtraction loses nothing).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec ExpM1<TVec, TOps>(TVec x) where TVec : struct where TOps : IVectorOps<TVec>
    {
        TVec p = TOps.Broadcast(1f / 362880);
        p = TOps.MultiplyAdd(p, x, TOps.Broadcast(1f / 40320));
        p = TOps.MultiplyAdd(p, x, TOps.Broadcast(1f / 5040));
        p = TOps.MultiplyAdd(p, x, TOps.Broadcast(1f / 720));
        p = TOps.MultiplyAdd(p, x, TOps.Broadcast(1f / 120));
        p = TOps.MultiplyAdd(p, x, TOps.Broadcast(1f / 24));
        p = TOps.MultiplyAdd(p, x, TOps.Broadcast(1f / 6));
        p = TOps.MultiplyAdd(p, x, TOps.Broadcast(0.5f));
        p = TOps.MultiplyAdd(p, x, TOps.Broadcast(1f));
        TVec small = TOps.Multiply(x, p);
        TVec large = TOps.Subtract(TOps.Exp(x), TOps.Broadcast(1f));
        return TOps.Select(TOps.GreaterThan(x, TOps.Broadcast(-0.5f)), small, large);
    }

    /// <summary><c>min(max(x, lo), hi)</c> with NaN kept (IEEE minimum and maximum).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Clamp<TVec, TOps>(TVec x, float lo, float hi) where TVec : struct where TOps : IVectorOps<TVec> =>
        TOps.Min(TOps.Max(x, TOps.Broadcast(lo)), TOps.Broadcast(hi));
}
