namespace Kernels.Onnx.Runtime.Ops.Elementwise;

/// <summary>
/// Erf (GELU's erf form is exported as Div, Erf, Add, Mul, Mul): in double, by the Taylor series below 0.5 (where
/// the relative error matters) and Abramowitz and Stegun 7.1.26 above it (absolute error below 1.5e-7, so float
/// results within about 2 ulps of 1 near saturation); odd, erf(+-inf) = +-1, NaN stays NaN.
/// </summary>
internal readonly struct ErfFunction : IUnaryFunction
{
    public static Op Create(OpContext c) => UnaryOp<ErfFunction>.Plain(c);

    public void Apply(ReadOnlySpan<float> x, Span<float> y, int degree)
    {
        for (int i = 0; i < x.Length; i++) y[i] = (float)Erf(x[i]);
    }

    public static double Erf(double x)
    {
        double z = Math.Abs(x);
        if (z < 0.5)
        {
            // 2/sqrt(pi) (x - x^3/3 + x^5/10 - x^7/42 + x^9/216 - x^11/1320): the next term is below 1e-9 relative.
            double x2 = x * x;
            return 1.1283791670955126 * x * (1 - x2 * (1.0 / 3 - x2 * (1.0 / 10 - x2 * (1.0 / 42 - x2 * (1.0 / 216 - x2 / 1320)))));
        }
        double t = 1 / (1 + 0.3275911 * z);
        double poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
        double r = 1 - poly * Math.Exp(-z * z);
        return double.IsNaN(x) ? x : x < 0 ? -r : r;
    }
}
