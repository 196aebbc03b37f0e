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
