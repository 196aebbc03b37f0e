using CommunityToolkit.HighPerformance;

namespace Kernels.Tests.Reliability;

/// <summary>NaN and infinity: the fast kernels agree with the oracle on where they appear (rules in docs/semantics.md).</summary>
[Trait("Category", "Kernel")]
public class SpecialValueTests
{
    private static bool SameClass(double a, double b) => FloatAssert.SameClass(a, b);

    [Theory]
    [InlineData(float.NaN, 0)]
    [InlineData(float.PositiveInfinity, 0)]
    [InlineData(float.NegativeInfinity, 0)]
    [InlineData(float.NaN, 1)]
    [InlineData(float.PositiveInfinity, 1)]
    public void Gemm_propagates_nan_and_infinity_like_the_oracle(float special, int where)
    {
        int m = 13, n = 37, k = 19;
        float[] a = TestData.Floats(1, m * k), b = TestData.Floats(2, k * n);
        if (where == 0) a[5 * k + 3] = special; else b[7 * n + 30] = special;
        float[] c = new float[m * n];
        double[] e = new double[m * n];
        Kernels.Gemm.Multiply(MatrixTranspose.None, MatrixTranspose.None, 1f, new ReadOnlySpan2D<float>(a, m, k), new ReadOnlySpan2D<float>(b, k, n), 0f, new Span2D<float>(c, m, n));
        Kernels.Reference.Gemm.Multiply(MatrixTranspose.None, MatrixTranspose.None, 1.0, new ReadOnlySpan2D<double>(FloatAssert.ToDouble(a), m, k),
            new ReadOnlySpan2D<double>(FloatAssert.ToDouble(b), k, n), 0.0, new Span2D<double>(e, m, n));
        for (int i = 0; i < c.Length; i++) Assert.True(SameClass(e[i], c[i]), $"C[{i}]: oracle {e[i]}, fast {c[i]}");
        Assert.Contains(c, v => !float.IsFinite(v)); // the special value did reach the output
    }

    [Fact]
    public void Softmax_with_infinite_scores_matches_the_oracle()
    {
        // Row 0: a +inf score: the row's loss and gradient are NaN (inf - inf), as in PyTorch.
        // Row 1: -inf at a wrong class: probability 0, finite loss. Row 2: -inf at the label: loss +inf.
        float[] s = [1, float.PositiveInfinity, 2, 0.5f, float.NegativeInfinity, 3, float.NegativeInfinity, 1, 2];
        int[] labels = [0, 2, 0];
        float[] d = new float[9];
        double[] e = new double[9];
        for (int row = 0; row < 3; row++)
        {
            float loss = Kernels.Losses.Softmax(new ReadOnlySpan2D<float>(s, 3 * row, 1, 3, 0), labels.AsSpan(row, 1), new Span2D<float>(d, 3 * row, 1, 3, 0));
            double exact = Kernels.Reference.Losses.Softmax(new ReadOnlySpan2D<double>(FloatAssert.ToDouble(s), 3 * row, 1, 3, 0), labels.AsSpan(row, 1),
                new Span2D<double>(e, 3 * row, 1, 3, 0));
            Assert.True(SameClass(exact, loss), $"row {row}: oracle loss {exact}, fast {loss}");
        }
        Assert.True(float.IsNaN(Kernels.Losses.Softmax(new ReadOnlySpan2D<float>(s, 0, 1, 3, 0), labels.AsSpan(0, 1), new Span2D<float>(d, 0, 1, 3, 0))));
        Assert.True(float.IsFinite(Kernels.Losses.Softmax(new ReadOnlySpan2D<float>(s, 3, 1, 3, 0), labels.AsSpan(1, 1), new Span2D<float>(d, 3, 1, 3, 0))));
        Assert.Equal(float.PositiveInfinity, Kernels.Losses.Softmax(new ReadOnlySpan2D<float>(s, 6, 1, 3, 0), labels.AsSpan(2, 1), new Span2D<float>(d, 6, 1, 3, 0)));
        for (int i = 0; i < 9; i++) Assert.True(SameClass(e[i], d[i]), $"dscores[{i}]: oracle {e[i]}, fast {d[i]}");
    }

    [Fact]
    public void Max_pool_window_with_nan_gives_nan_and_sends_the_gradient_to_the_first_nan()
    {
        float[] x = [1, float.NaN, 5, float.NaN, 2, 3, 4, 0];   // 1x1x2x4, windows 2x2 stride 2
        float[] y = new float[2], dx = new float[8];
        MaxPool2D.Forward(new ReadOnlyNchwSpan<float>(x, 1, 1, 2, 4), new Pool2DParams(), new NchwSpan<float>(y, 1, 1, 1, 2));
        Assert.True(float.IsNaN(y[0]));
        Assert.True(float.IsNaN(y[1]));
        MaxPool2D.Backward(new ReadOnlyNchwSpan<float>([10f, 20f], 1, 1, 1, 2), new ReadOnlyNchwSpan<float>(x, 1, 1, 2, 4), new Pool2DParams(), new NchwSpan<float>(dx, 1, 1, 2, 4));
        Assert.Equal([0f, 10, 0, 20, 0, 0, 0, 0], dx);
    }
}
