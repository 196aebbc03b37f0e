namespace Kernels.Tests.Elementwise;

/// <summary>
/// The activations against PyTorch's own float64 numbers (forward and autograd gradient, kinks included): the
/// double oracles agree to double rounding, the fast float kernels within their stated ulp bounds.
/// </summary>
[Trait("Category", "Kernel")]
public class ActivationTorchTests
{
    /// <summary>
    /// PyTorch computes in double with its own formulas: the GELU tanh form's 1 + tanh(u) cancels to 0 from
    /// x = -9 on, where the exact value is ~1e-32. Its error is at most a few double ulps of the terms, ~1e-15 (1 + |x|).
    /// </summary>
    private static double TorchError(double x) => 1e-15 * (1 + Math.Abs(x));

    /// <summary>
    /// PyTorch 1.13's hard swish gradient at exactly x = 3 is dout * 1.5 in its scalar tail (x &lt;= 3) but dout in its
    /// vectorized body (x &gt;= 3 takes dout): both occur in the fixture (elements 248 and 150). We give 1.5 everywhere.
    /// </summary>
    private static bool TorchIsAmbiguous(string name, float x, float dout, double torchDx)
    {
        if (name != "hardswish" || x != 3) return false;
        Assert.True(torchDx == dout || torchDx == 1.5 * dout, $"PyTorch's hard swish gradient at 3: {torchDx:R} for dout {dout:R}");
        return true;
    }

    [Theory, MemberData(nameof(ActivationTable.Names), MemberType = typeof(ActivationTable))]
    public void Oracle_and_fast_kernels_match_pytorch(string name)
    {
        ActivationRow row = ActivationTable.Row(name);
        var root = TorchFixtures.Root;
        float[] x = TorchFixtures.Floats(root.GetProperty("x")), dout = TorchFixtures.Floats(root.GetProperty("dout"));
        var fixture = root.GetProperty("activations").GetProperty(name);
        double[] torchY = TorchFixtures.Doubles(fixture.GetProperty("y")), torchDx = TorchFixtures.Doubles(fixture.GetProperty("dx"));
        Assert.Equal(x.Length, torchY.Length);

        double[] y = new double[x.Length], dx = new double[x.Length];
        row.OracleForward(ActivationTable.ToDouble(x), y);
        row.OracleBackward(ActivationTable.ToDouble(dout), ActivationTable.ToDouble(x), dx);
        // 1e-7 relative: PyTorch's CPU kernels use float constants in double too (hard sigmoid's gradient is
        // dout * (1.0f / 6), 3e-8 from 1/6).
        for (int i = 0; i < x.Length; i++)
        {
            if (TorchIsAmbiguous(name, x[i], dout[i], torchDx[i])) continue;
            Assert.True(Math.Abs(y[i] - torchY[i]) <= 1e-7 * Math.Abs(torchY[i]) + TorchError(x[i]), $"{name} oracle y at x = {x[i]:R}: {y[i]:R} vs PyTorch {torchY[i]:R}");
            Assert.True(Math.Abs(dx[i] - torchDx[i]) <= 1e-7 * Math.Abs(torchDx[i]) + TorchError(x[i]), $"{name} oracle dx at x = {x[i]:R}: {dx[i]:R} vs PyTorch {torchDx[i]:R}");
        }

        float[] fy = new float[x.Length], fdx = new float[x.Length];
        row.Forward(x, fy, 1);
        row.Backward(dout, x, fdx, 1);
        for (int i = 0; i < x.Length; i++)
        {
            if (TorchIsAmbiguous(name, x[i], dout[i], torchDx[i])) continue;
            double uy = Tolerance.Ulps(fy[i], torchY[i]), udx = Tolerance.Ulps(fdx[i], torchDx[i], 2 * row.BackwardFloor);
            Assert.True(uy <= row.ForwardBound(x[i]) + 0.5 || Math.Abs(fy[i] - torchY[i]) <= TorchError(x[i]),
                $"{name} fast y at x = {x[i]:R}: {fy[i]:R} vs PyTorch {torchY[i]:R} ({uy:G4} ulps)");
            Assert.True(udx <= Tolerance.Activation.WithDout(row.BackwardUlps) + 0.5 || Math.Abs(fdx[i] - torchDx[i]) <= TorchError(x[i]),
                $"{name} fast dx at x = {x[i]:R}: {fdx[i]:R} vs PyTorch {torchDx[i]:R} ({udx:G4} ulps)");
        }
    }
}
