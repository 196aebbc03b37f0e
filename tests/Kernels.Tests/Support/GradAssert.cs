using Kernels.Diagnostics;

namespace Kernels.Tests;

/// <summary>Compares an analytic gradient with the central-difference one within <see cref="Tolerance.GradCheck"/>.</summary>
public static class GradAssert
{
    /// <summary><paramref name="f"/> must read <paramref name="input"/>; the gradient is taken with respect to it.</summary>
    public static void Matches(double[] input, Func<double> f, ReadOnlySpan<double> analytic, string what)
    {
        var numeric = new double[input.Length];
        GradientCheck.NumericalGradient(f, input, numeric);
        double err = GradientCheck.RelativeError(analytic, numeric);
        Assert.True(err < Tolerance.GradCheck, $"{what}: relative error {err:E3} >= {Tolerance.GradCheck:E0}");
    }

    /// <summary>The scalar <c>sum(a .* b)</c>: with b = dout it turns a layer into a loss whose gradient is the backward pass.</summary>
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }
}
