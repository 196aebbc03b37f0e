namespace Kernels.Tests.Normalization;

/// <summary>
/// BatchNorm2D against PyTorch's <c>F.batch_norm(training=True, momentum=0.1, eps=1e-5)</c> in float64 with
/// autograd gradients: the oracle to double rounding, the fast kernels within <see cref="Tolerance.BatchNorm"/>.
/// The running variance PyTorch stores is the unbiased one; so is ours.
/// </summary>
[Trait("Category", "Kernel")]
public class BatchNormTorchTests
{
    [Fact]
    public void Training_forward_and_backward_match_pytorch()
    {
        var f = TorchFixtures.Root.GetProperty("batchnorm");
        int[] d = f.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        var s = new Shape4(d[0], d[1], d[2], d[3]);
        double[] x = TorchFixtures.Doubles(f.GetProperty("x")), gamma = TorchFixtures.Doubles(f.GetProperty("gamma")), beta = TorchFixtures.Doubles(f.GetProperty("beta"));
        double[] dout = TorchFixtures.Doubles(f.GetProperty("dout")), torchY = TorchFixtures.Doubles(f.GetProperty("y")), torchDx = TorchFixtures.Doubles(f.GetProperty("dx"));
        double[] torchRm = TorchFixtures.Doubles(f.GetProperty("new_running_mean")), torchRv = TorchFixtures.Doubles(f.GetProperty("new_running_var"));
        double[] torchDg = TorchFixtures.Doubles(f.GetProperty("dgamma")), torchDb = TorchFixtures.Doubles(f.GetProperty("dbeta"));

        double[] y = new double[x.Length], rm = TorchFixtures.Doubles(f.GetProperty("running_mean")), rv = TorchFixtures.Doubles(f.GetProperty("running_var"));
        double[] sm = new double[s.C], si = new double[s.C], dx = new double[x.Length], dg = new double[s.C], db = new double[s.C];
        Kernels.Reference.BatchNorm2D.ForwardTraining<double>(new(x, s), gamma, beta, new BatchNormParams(1e-5, 0.1), new(y, s), rm, rv, sm, si);
        Kernels.Reference.BatchNorm2D.Backward<double>(new(dout, s), new(x, s), gamma, sm, si, new(dx, s), dg, db);
        AssertClose(torchY, y, 1e-12, "oracle y");
        AssertClose(torchRm, rm, 1e-12, "oracle running mean");
        AssertClose(torchRv, rv, 1e-12, "oracle running var (unbiased)");
        AssertClose(torchDx, dx, 1e-11, "oracle dx");
        AssertClose(torchDg, dg, 1e-11, "oracle dgamma");
        AssertClose(torchDb, db, 1e-11, "oracle dbeta");

        float[] xf = x.Select(v => (float)v).ToArray(), gf = gamma.Select(v => (float)v).ToArray(), bf = beta.Select(v => (float)v).ToArray();
        float[] rmf = TorchFixtures.Floats(f.GetProperty("running_mean")), rvf = TorchFixtures.Floats(f.GetProperty("running_var"));
        float[] yf = new float[x.Length], smf = new float[s.C], sif = new float[s.C], dxf = new float[x.Length], dgf = new float[s.C], dbf = new float[s.C];
        BatchNorm2D.ForwardTraining(new(xf, s), gf, bf, new BatchNormParams(1e-5, 0.1), new(yf, s), rmf, rvf, smf, sif);
        BatchNorm2D.Backward(new(dout.Select(v => (float)v).ToArray(), s), new(xf, s), gf, smf, sif, new(dxf, s), dgf, dbf);
        int m = s.N * s.PlaneLength;
        for (int i = 0; i < x.Length; i++)
        {
            int c = i / s.PlaneLength % s.C;
            double xhat = (x[i] - sm[c]) * si[c];
            Assert.True(Math.Abs(yf[i] - torchY[i]) <= Tolerance.BatchNorm.Output(gamma[c], xhat, torchY[i]), $"fast y[{i}] {yf[i]:R} vs PyTorch {torchY[i]:R}");
            double meanAbsDout = Enumerable.Range(0, x.Length).Where(j => j / s.PlaneLength % s.C == c).Average(j => Math.Abs(dout[j]));
            double meanAbsDoutXhat = Enumerable.Range(0, x.Length).Where(j => j / s.PlaneLength % s.C == c).Average(j => Math.Abs(dout[j] * (x[j] - sm[c]) * si[c]));
            Assert.True(Math.Abs(dxf[i] - torchDx[i]) <= Tolerance.BatchNorm.Dx(gamma[c] * si[c], dout[i], meanAbsDout, xhat, meanAbsDoutXhat),
                $"fast dx[{i}] {dxf[i]:R} vs PyTorch {torchDx[i]:R}");
            if (i % s.PlaneLength == 0 && i / s.PlaneLength < s.C)
            {
                Assert.True(Math.Abs(rvf[c] - torchRv[c]) <= Tolerance.BatchNorm.Relative(torchRv[c]) + 2 * Tolerance.FloatUnitRoundoff, $"fast running var[{c}]");
                Assert.True(Math.Abs(dgf[c] - torchDg[c]) <= Tolerance.BatchNorm.Sum(meanAbsDoutXhat * m), $"fast dgamma[{c}]");
                Assert.True(Math.Abs(dbf[c] - torchDb[c]) <= Tolerance.BatchNorm.Sum(meanAbsDout * m), $"fast dbeta[{c}]");
            }
        }
    }

    private static void AssertClose(double[] expected, double[] actual, double rel, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(Math.Abs);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= rel * scale, $"{what}[{i}]: {actual[i]:R} vs PyTorch {expected[i]:R}");
    }
}
