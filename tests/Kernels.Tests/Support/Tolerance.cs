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
}
