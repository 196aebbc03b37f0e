using CommunityToolkit.HighPerformance;

namespace Kernels.Tests.Reference;

// Inside the namespace so that the oracles win over the fast kernels of the same names in namespace Kernels.
using Kernels.Reference;

/// <summary>Every reference backward pass against central differences, in double precision, on generated shapes.</summary>
[Trait("Category", "Kernel")]
public class GradientCheckTests
{
    [GradCheckProperty]
    public void Conv2D_backward_matches_numerical_gradient(ConvCase k) => CheckConv2D(k);

    /// <summary>The conv oracle's dx, dw and db against central differences of <c>sum(y .* dout)</c>.</summary>
    internal static void CheckConv2D(IConvProblem k)
    {
        double[] x = TestData.Doubles(k.Seed, k.X.Length), w = TestData.Doubles(k.Seed + 1, k.Filter.Length);
        double[] b = TestData.Doubles(k.Seed + 2, k.F), dout = TestData.Doubles(k.Seed + 3, k.Y.Length);
        var y = new double[k.Y.Length];
        double Loss()
        {
            Conv2D.Forward(new ReadOnlyNchwSpan<double>(x, k.X), new ReadOnlyNchwSpan<double>(w, k.Filter), b, k.P, new NchwSpan<double>(y, k.Y));
            return GradAssert.Dot(y, dout);
        }
        double[] dx = new double[x.Length], dw = new double[w.Length], db = new double[b.Length];
        Conv2D.Backward(new ReadOnlyNchwSpan<double>(dout, k.Y), new ReadOnlyNchwSpan<double>(x, k.X), new ReadOnlyNchwSpan<double>(w, k.Filter),
            k.P, new NchwSpan<double>(dx, k.X), new NchwSpan<double>(dw, k.Filter), db);
        GradAssert.Matches(x, Loss, dx, "dx");
        GradAssert.Matches(w, Loss, dw, "dw");
        GradAssert.Matches(b, Loss, db, "db");
    }

    [GradCheckProperty]
    public void MaxPool2D_backward_matches_numerical_gradient(PoolCase k)
    {
        double[] x = TestData.Distinct(k.Seed, k.X.Length), dout = TestData.Doubles(k.Seed + 1, k.Y.Length);
        var y = new double[k.Y.Length];
        double Loss()
        {
            MaxPool2D.Forward(new ReadOnlyNchwSpan<double>(x, k.X), k.P, new NchwSpan<double>(y, k.Y));
            return GradAssert.Dot(y, dout);
        }
        var dx = new double[x.Length];
        MaxPool2D.Backward(new ReadOnlyNchwSpan<double>(dout, k.Y), new ReadOnlyNchwSpan<double>(x, k.X), k.P, new NchwSpan<double>(dx, k.X));
        GradAssert.Matches(x, Loss, dx, "dx");
    }

    [GradCheckProperty]
    public void AvgPool2D_backward_matches_numerical_gradient(PoolCase k)
    {
        double[] x = TestData.Doubles(k.Seed, k.X.Length), dout = TestData.Doubles(k.Seed + 1, k.Y.Length);
        var y = new double[k.Y.Length];
        double Loss()
        {
            AvgPool2D.Forward(new ReadOnlyNchwSpan<double>(x, k.X), k.P, new NchwSpan<double>(y, k.Y));
            return GradAssert.Dot(y, dout);
        }
        var dx = new double[x.Length];
        AvgPool2D.Backward(new ReadOnlyNchwSpan<double>(dout, k.Y), k.X, k.P, new NchwSpan<double>(dx, k.X));
        GradAssert.Matches(x, Loss, dx, "dx");
    }

    [GradCheckProperty]
    public void Relu_backward_matches_numerical_gradient(MatCase k)
    {
        int n = k.N * k.D;
        double[] x = TestData.AwayFromZero(k.Seed, n), dout = TestData.Doubles(k.Seed + 1, n);
        var y = new double[n];
        double Loss()
        {
            Relu.Forward<double>(x, y);
            return GradAssert.Dot(y, dout);
        }
        var dx = new double[n];
        Relu.Backward<double>(dout, x, dx);
        GradAssert.Matches(x, Loss, dx, "dx");
    }

    [GradCheckProperty]
    public void Affine_backward_matches_numerical_gradient(MatCase k)
    {
        double[] x = TestData.Doubles(k.Seed, k.N * k.D), w = TestData.Doubles(k.Seed + 1, k.D * k.M);
        double[] b = TestData.Doubles(k.Seed + 2, k.M), dout = TestData.Doubles(k.Seed + 3, k.N * k.M);
        var y = new double[k.N * k.M];
        double Loss()
        {
            Affine.Forward(new ReadOnlySpan2D<double>(x, k.N, k.D), new ReadOnlySpan2D<double>(w, k.D, k.M), b, new Span2D<double>(y, k.N, k.M));
            return GradAssert.Dot(y, dout);
        }
        double[] dx = new double[x.Length], dw = new double[w.Length], db = new double[b.Length];
        Affine.Backward(new ReadOnlySpan2D<double>(dout, k.N, k.M), new ReadOnlySpan2D<double>(x, k.N, k.D), new ReadOnlySpan2D<double>(w, k.D, k.M),
            new Span2D<double>(dx, k.N, k.D), new Span2D<double>(dw, k.D, k.M), db);
        GradAssert.Matches(x, Loss, dx, "dx");
        GradAssert.Matches(w, Loss, dw, "dw");
        GradAssert.Matches(b, Loss, db, "db");
    }

    [GradCheckProperty]
    public void Softmax_loss_gradient_matches_numerical_gradient(MatCase k)
    {
        int classes = k.M;
        double[] s = TestData.Doubles(k.Seed, k.N * classes, -3, 3);
        int[] labels = TestData.Labels(k.Seed + 1, k.N, classes);
        var ds = new double[s.Length];
        var scratch = new double[s.Length];
        double Loss() => Losses.Softmax(new ReadOnlySpan2D<double>(s, k.N, classes), labels, new Span2D<double>(scratch, k.N, classes));
        Losses.Softmax(new ReadOnlySpan2D<double>(s, k.N, classes), labels, new Span2D<double>(ds, k.N, classes));
        GradAssert.Matches(s, Loss, ds, "dscores");
    }

    [GradCheckProperty]
    public void Svm_loss_gradient_matches_numerical_gradient(MatCase k)
    {
        int classes = k.M;
        double[] s = TestData.Doubles(k.Seed, k.N * classes, -2, 2);
        int[] labels = TestData.Labels(k.Seed + 1, k.N, classes);
        // Keep every margin s[j] - s[y] + 1 away from its kink at 0, where the hinge has no derivative.
        for (int i = 0; i < k.N; i++)
        for (int j = 0; j < classes; j++)
            if (j != labels[i] && Math.Abs(s[i * classes + j] - s[i * classes + labels[i]] + 1) < 1e-2)
                s[i * classes + j] += 0.05;
        var ds = new double[s.Length];
        var scratch = new double[s.Length];
        double Loss() => Losses.Svm(new ReadOnlySpan2D<double>(s, k.N, classes), labels, new Span2D<double>(scratch, k.N, classes));
        Losses.Svm(new ReadOnlySpan2D<double>(s, k.N, classes), labels, new Span2D<double>(ds, k.N, classes));
        GradAssert.Matches(s, Loss, ds, "dscores");
    }

    [GradCheckProperty]
    public void MeanSquaredError_gradient_matches_numerical_gradient(MatCase k)
    {
        double[] p = TestData.Doubles(k.Seed, k.N * k.M), t = TestData.Doubles(k.Seed + 1, k.N * k.M);
        var dp = new double[p.Length];
        var scratch = new double[p.Length];
        double Loss() => Losses.MeanSquaredError(new ReadOnlySpan2D<double>(p, k.N, k.M), new ReadOnlySpan2D<double>(t, k.N, k.M), new Span2D<double>(scratch, k.N, k.M));
        Losses.MeanSquaredError(new ReadOnlySpan2D<double>(p, k.N, k.M), new ReadOnlySpan2D<double>(t, k.N, k.M), new Span2D<double>(dp, k.N, k.M));
        GradAssert.Matches(p, Loss, dp, "dpred");
    }

    [GradCheckProperty]
    public void Gemm_matches_the_affine_identity_in_every_transpose(MatCase k, bool ta, bool tb)
    {
        // op(A) is N x D, op(B) is D x M; store each transposed or not and compare with explicit loops.
        double[] a = TestData.Doubles(k.Seed, k.N * k.D), b = TestData.Doubles(k.Seed + 1, k.D * k.M);
        double[] c = TestData.Doubles(k.Seed + 2, k.N * k.M);
        double[] expected = new double[c.Length];
        for (int i = 0; i < k.N; i++)
        for (int j = 0; j < k.M; j++)
        {
            double sum = 0;
            for (int p = 0; p < k.D; p++)
                sum += (ta ? a[p * k.N + i] : a[i * k.D + p]) * (tb ? b[j * k.D + p] : b[p * k.M + j]);
            expected[i * k.M + j] = 0.5 * sum + 2 * c[i * k.M + j];
        }
        var av = ta ? new ReadOnlySpan2D<double>(a, k.D, k.N) : new ReadOnlySpan2D<double>(a, k.N, k.D);
        var bv = tb ? new ReadOnlySpan2D<double>(b, k.M, k.D) : new ReadOnlySpan2D<double>(b, k.D, k.M);
        Gemm.Multiply(ta ? MatrixTranspose.Transpose : MatrixTranspose.None, tb ? MatrixTranspose.Transpose : MatrixTranspose.None,
            0.5, av, bv, 2.0, new Span2D<double>(c, k.N, k.M));
        Assert.True(Kernels.Diagnostics.GradientCheck.RelativeError(expected, c) < Tolerance.DoubleReorder);
    }
}
