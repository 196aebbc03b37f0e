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
}
