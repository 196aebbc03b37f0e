namespace Kernels.Tests;

/// <summary>
/// The one place where test tolerances live, each with its reason. Never loosen one to make a test pass.
/// </summary>
public static class Tolerance
{
    /// <summary>
    /// Analytic vs central-difference gradients in double precision (h = 1e-5), measured with
    /// <see cref="Kernels.Diagnostics.GradientCheck.RelativeError"/>. Truncation is O(h^2) ~ 1e-10 for the smooth
    /// layers and zero for the linear ones; rounding is ~ eps * |f| / h ~ 1e-11 * |f|; with |f| &lt; 100 on the
    /// test shapes both are far below the bound of 1e-7.
    /// </summary>
    public const double GradCheck = 1e-7;

    /// <summary>
    /// Two double-precision evaluations of the same formula in different summation orders: rounding of a
    /// length-K sum is at most K * eps relative; 1e-12 covers K up to ~4500.
    /// </summary>
    public const double DoubleReorder = 1e-12;

    /// <summary>Unit roundoff of float: 2^-24.</summary>
    public const double FloatUnitRoundoff = 1.0 / (1 << 24);

    /// <summary>
    /// Bound on |fast - exact| for a float sum of <paramref name="terms"/> products (GEMM, convolution, affine),
    /// compared with the same sum evaluated in double. The classic bound for any summation order, fused or not, is
    /// <c>terms * u * sum |a_i b_i|</c> (u = 2^-24); two more roundings cover alpha/beta scaling and the bias.
    /// <paramref name="absSum"/> is the sum of absolute values of the products (the reference run on |inputs|).
    /// A wrong or missing term changes the result by about absSum / terms, which this bound always catches.
    /// </summary>
    public static double SumBound(int terms, double absSum) => (terms + 2) * FloatUnitRoundoff * absSum + 1e-35;

    /// <summary>
    /// Bound on |fast - exact| for one output of the Winograd F(4x4, 3x3) convolution, with
    /// <c>tileMagnitude = sum_c max|w[f, c, :, :]| * max|x[n, c, tile's 6x6 input window]|</c> (padding counts as 0).
    /// Winograd mixes a tile's values before multiplying: each channel's contribution passes the transforms, which can
    /// scale it by up to ||A^T||^2 ||B^T||^2 ||G||^2 = 361 * 100 * 1 in the worst alignment, so the error follows
    /// the tile's magnitude, not the output's. Rounding errors of random signs add up like sqrt(C), not C: over 400
    /// random cases (C from 1 to 291, data scaled 1e-3 to 1e6, with and without offsets) the worst measured was
    /// 205 u * tileMagnitude (at C = 1; 51 at C near 300); 512 leaves 2.5x. A wrong or missing tap moves an output
    /// by about tileMagnitude / C * |value|, far above this for the shapes tested.
    /// </summary>
    public static double WinogradBound(double tileMagnitude) => 512 * FloatUnitRoundoff * tileMagnitude + 1e-35;

    /// <summary>
    /// Bound for the float losses against the double oracle. A softmax row costs one max, C exps (each within a
    /// few ulps in TensorPrimitives), a length-C sum and a log; the mean adds N more terms. So the error grows with
    /// C + N: <c>(C + N + 16) * u * scale</c>, where scale is |loss| + 1 for the loss (the +1 covers cancellation in
    /// logsumexp - s_y) and max(|g|, 1/N) for a gradient element g.
    /// </summary>
    public static double LossBound(int classes, int rows, double scale) => (classes + rows + 16) * FloatUnitRoundoff * scale;

    /// <summary>
    /// Distance of a float result from the exact (double) value in units of the float spacing at the exact value:
    /// <c>|actual - exact| / ulp(max(|exact|, floor))</c>, ulp(v) the gap between |float(v)| and the next float up
    /// (2^-149 for subnormals). NaN exact needs NaN, an infinite exact needs the same infinity (0 ulps), a NaN or
    /// infinite actual against a finite exact is infinitely far. +0 and -0 are 0 ulps apart.
    /// </summary>
    public static double Ulps(float actual, double exact, double floor = 0)
    {
        if (double.IsNaN(exact)) return float.IsNaN(actual) ? 0 : double.PositiveInfinity;
        if (double.IsInfinity(exact) || float.IsInfinity(actual) || float.IsNaN(actual))
            return actual == exact ? 0 : double.PositiveInfinity;
        float at = (float)Math.Max(Math.Abs(exact), floor);
        if (float.IsInfinity(at)) at = float.MaxValue;
        double ulp = (double)MathF.BitIncrement(at) - at;
        if (double.IsInfinity(ulp) || at == float.MaxValue) ulp = (double)at - MathF.BitDecrement(at);
        return Math.Abs(actual - exact) / ulp;
    }

    /// <summary>
    /// Ulp bounds of the activations against their double oracles (docs/semantics.md states the same numbers), each
    /// the worst measured on the dense sweep of <c>ActivationTable.Sweep</c> over the three ISA legs, rounded up.
    /// </summary>
    public static class Activation
    {
        // Measured worst (AVX-512 / AVX2 / SSE / scalar legs; forward, then f' with dout = 1), bound = worst rounded
        // up plus one ulp for points between the sweep's:
        // sigmoid 3.33 / 4.84, tanh 4.25 / 4.84, SiLU 3.87 / 5.45, GELU 8.30 / 10.29, GELU tanh 2.59 beyond its tail
        // term / 9.12, ELU 2.35 / 2.71, hard sigmoid 1 / 0.33, hard swish 1.77 / 2.67 (counted at 1/16 or more),
        // leaky ReLU 0.5 / 0, clip and ReLU6 0 / 0 (exact).

        /// <summary>Piecewise-linear functions: one rounding of (x + 3) or x * slope, one of the division by 6 or product.</summary>
        public const double HardForward = 2, HardBackward = 1, HardSwishBackward = 4;
        public const double SigmoidForward = 5, SigmoidBackward = 6;
        public const double TanhForward = 6, TanhBackward = 6;
        public const double SiluForward = 5, SiluBackward = 7;
        public const double GeluForward = 10, GeluBackward = 12;
        public const double GeluTanhForward = 4, GeluTanhBackward = 11;
        public const double EluForward = 4, EluBackward = 4;

        /// <summary>
        /// GELU tanh is x sigmoid(z), z = 2 sqrt(2/pi) (x + 0.044715 x^3). In the negative tail the result's relative
        /// error equals z's absolute error, and z in float carries a few ulps relative (the rounded constants, x^3):
        /// about |z| 2^-22, i.e. up to 3 |z| ulps of the result (z = -81 at x = -9.7, the last normal result).
        /// </summary>
        public static double GeluTanhTail(float x)
        {
            double z = 1.5957691216057308 * (x + 0.044715 * (double)x * x * x);
            return z < 0 ? 3 * Math.Min(-z, 1e6) : 0;
        }

        /// <summary>
        /// SiLU', GELU' and hard swish' cross zero (x = -1.278, -0.752, -1.5): there 1 + x (1 - s) or x / 3 + 1/2 cancels terms of size ~1, so the
        /// absolute error is a few 2^-24 while the value goes to 0. Their ulps are counted at least at 1/16.
        /// </summary>
        public const double CancellingFloor = 1.0 / 16;

        /// <summary>dx = dout * f'(x) rounds once more than f'(x) alone: one ulp more.</summary>
        public static double WithDout(double backwardUlps) => backwardUlps + 1;
    }

    /// <summary>
    /// Batch normalization against the double oracle. Each float sum in the kernel runs at most 64 terms per lane
    /// before it is flushed into double, plus at most 15 lane additions (<c>PlaneSums</c>): relative error at most
    /// 80 u of the sum of |terms|. Hence the corrected mean is off by at most 80 u mean|x - mean| &lt;= 80 u sigma
    /// (Cauchy-Schwarz), the variance by 80 u relative and invStd by 40 u; the per-element FMA, the split mean and the
    /// rounding of the coefficients add a few u. 96 u covers these with 16 u to spare; the bounds are per element.
    /// </summary>
    public static class BatchNorm
    {
        private const double K = 96 * FloatUnitRoundoff;

        /// <summary>y = gamma xhat + beta: the statistics' error scales gamma (|xhat| + 1), the last roundings |y|.</summary>
        public static double Output(double gamma, double xhat, double y) => K * Math.Abs(gamma) * (Math.Abs(xhat) + 1) + 2 * FloatUnitRoundoff * Math.Abs(y) + 1e-35;

        /// <summary>The saved mean: its own rounding (0.5 u |mean|) and the sums' error (80 u sigma).</summary>
        public static double Mean(double mean, double sigma) => K * (Math.Abs(mean) + sigma) + 1e-35;

        /// <summary>invStd and the running statistics, relative.</summary>
        public static double Relative(double value) => K * Math.Abs(value) + 1e-35;

        /// <summary>
        /// dx = k (dout - dbeta / M - xhat dgamma / M), k = gamma invStd: the sums err by 80 u of mean|dout| and of
        /// mean|dout xhat|, the two FMAs and the coefficients by a few u of each term.
        /// </summary>
        public static double Dx(double k, double dout, double meanAbsDout, double xhat, double meanAbsDoutXhat) =>
            K * Math.Abs(k) * (Math.Abs(dout) + meanAbsDout + Math.Abs(xhat) * meanAbsDoutXhat) + 1e-35;

        /// <summary>dgamma and dbeta: float sums of M terms whose |terms| add up to <paramref name="absSum"/>.</summary>
        public static double Sum(double absSum) => K * absSum + 1e-35;
    }
}
