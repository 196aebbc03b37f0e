namespace Kernels.Tests;

public static class FloatAssert
{
    /// <summary>Every element within <see cref="Tolerance.SumBound"/> of the double-precision result; NaN only where exact is NaN.</summary>
    public static void WithinSumBound(ReadOnlySpan<float> actual, ReadOnlySpan<double> exact, ReadOnlySpan<double> absSum, int terms, string what)
    {
        Assert.Equal(exact.Length, actual.Length);
        for (int i = 0; i < actual.Length; i++)
        {
            if (double.IsNaN(exact[i])) { Assert.True(float.IsNaN(actual[i]), $"{what}[{i}]: expected NaN, got {actual[i]}"); continue; }
            double err = Math.Abs(actual[i] - exact[i]), bound = Tolerance.SumBound(terms, absSum[i]);
            Assert.True(err <= bound, $"{what}[{i}]: got {actual[i]:R}, exact {exact[i]:R}, error {err:E3} > bound {bound:E3} ({terms} terms)");
        }
    }

    /// <summary>Bit-for-bit equality (ReLU, max pool and everything compared across thread counts).</summary>
    public static void BitwiseEqual(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}[{i}]: expected {expected[i]:R} but got {actual[i]:R}");
    }

    /// <summary>
    /// A float sum of <paramref name="terms"/> products against its double evaluation with special values (the
    /// semantics table's rule: IEEE arithmetic in some summation order). <paramref name="finiteAbsSum"/> is the sum
    /// of |products| over the finite inputs. NaN exact means NaN. When that magnitude stays below float's range no
    /// partial sum can overflow: an infinite result is exact and a finite one within <see cref="Tolerance.SumBound"/>.
    /// Otherwise a partial sum may overflow in float, in an order-dependent way: ±inf or NaN are allowed too.
    /// </summary>
    public static void FollowsIeeeSumRule(ReadOnlySpan<float> actual, ReadOnlySpan<double> exact, ReadOnlySpan<double> finiteAbsSum, int terms, string what)
    {
        Assert.Equal(exact.Length, actual.Length);
        for (int i = 0; i < actual.Length; i++)
        {
            float a = actual[i];
            double e = exact[i], bound = Tolerance.SumBound(terms, finiteAbsSum[i]);
            bool mayOverflow = finiteAbsSum[i] * (1 + (terms + 2) * Tolerance.FloatUnitRoundoff) > float.MaxValue;
            bool ok = double.IsNaN(e) ? float.IsNaN(a)
                : double.IsInfinity(e) ? a == e || (mayOverflow && float.IsNaN(a))
                : Math.Abs(a - e) <= bound || (mayOverflow && !float.IsFinite(a));
            Assert.True(ok, $"{what}[{i}]: got {a:R}, exact {e:R}, finite magnitude {finiteAbsSum[i]:R} ({terms} terms{(mayOverflow ? ", may overflow" : "")})");
        }
    }

    /// <summary>Bit-for-bit equality where any NaN matches any NaN (kernels whose NaN payload is unspecified).</summary>
    public static void BitwiseEqualAnyNaN(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            bool same = float.IsNaN(expected[i]) ? float.IsNaN(actual[i]) : BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]);
            if (!same) Assert.Fail($"{what}[{i}]: expected {expected[i]:R} but got {actual[i]:R}");
        }
    }

    /// <summary>Both NaN, the same infinity, or both finite.</summary>
    public static bool SameClass(double expected, double actual) =>
        double.IsNaN(expected) ? double.IsNaN(actual) : double.IsInfinity(expected) ? actual == expected : double.IsFinite(actual);

    public static double[] ToDouble(ReadOnlySpan<float> a)
    {
        var d = new double[a.Length];
        for (int i = 0; i < a.Length; i++) d[i] = a[i];
        return d;
    }

    public static double[] Abs(ReadOnlySpan<float> a)
    {
        var d = new double[a.Length];
        for (int i = 0; i < a.Length; i++) d[i] = Math.Abs((double)a[i]);
        return d;
    }
}
