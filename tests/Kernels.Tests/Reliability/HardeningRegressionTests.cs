using CommunityToolkit.HighPerformance;

namespace Kernels.Tests.Reliability;

/// <summary>
/// The hostile-user findings of the hardening issue, each as the exact call that failed (the classes of bug are
/// swept by <see cref="ExtremeGeometryTests"/>, <see cref="SpecialValueDifferentialTests"/> and the safetensors tests).
/// </summary>
[Trait("Category", "Kernel")]
public class HardeningRegressionTests
{
    private static bool SameBits(float a, float b) => BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b);

    [Fact]
    public void Conv_with_stride_and_pad_near_int_max_is_refused_before_writing()
    {
        var xs = new Shape4(1, 1, 3, 3);
        float[] x = Enumerable.Repeat(1f, 9).ToArray(), w = Enumerable.Repeat(1f, 9).ToArray(), y = Enumerable.Repeat(7f, 9).ToArray();
        // stride = pad = int.MaxValue gave a 3x3 output, then the zero-padded copy wrote out of bounds.
        var max = new Conv2DParams(int.MaxValue, int.MaxValue);
        Assert.Throws<ArgumentOutOfRangeException>(() => Conv2D.Forward(new(x, xs), new(w, xs), [0f], max, new(y, xs)));
        Assert.All(y, v => Assert.Equal(7f, v));
        // stride = pad = 2^30 returned dx = dw = 0 (32-bit index arithmetic wrapped); the oracle refuses it alike.
        var big = new Conv2DParams(1 << 30, 1 << 30);
        float[] dx = new float[9], dw = new float[9], db = new float[1];
        Assert.Throws<ArgumentOutOfRangeException>(() => Conv2D.Backward(new(y, xs), new(x, xs), new(w, xs), big, new(dx, xs), new(dw, xs), db));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            Kernels.Reference.Conv2D.Backward(new(y, xs), new(x, xs), new(w, xs), big, new NchwSpan<float>(dx, xs), new NchwSpan<float>(dw, xs), db));
    }

    [Fact]
    public void Conv_at_the_largest_indexable_padding_matches_the_oracle()
    {
        // H + 2 pad = int.MaxValue - 1 exactly: accepted, and every index of the general (no-copy) path fits.
        var xs = new Shape4(1, 1, 3, 3);
        var ws = new Shape4(1, 1, 3, 3);
        var p = new Conv2DParams(1 << 30, (1 << 30) - 2);
        Shape4 ys = Geometry.Conv2DOutput(xs, ws, 1, p);
        float[] x = TestData.Floats(1, 9), w = TestData.Floats(2, 9), dout = TestData.Floats(3, ys.Length);
        float[] y = new float[ys.Length], ey = new float[ys.Length], dx = new float[9], edx = new float[9], dw = new float[9], edw = new float[9];
        float[] db = new float[1], edb = new float[1];
        Conv2D.Forward(new(x, xs), new(w, ws), [0.5f], p, new(y, ys));
        Kernels.Reference.Conv2D.Forward(new(x, xs), new(w, ws), [0.5f], p, new NchwSpan<float>(ey, ys));
        Conv2D.Backward(new(dout, ys), new(x, xs), new(w, ws), p, new(dx, xs), new(dw, ws), db);
        Kernels.Reference.Conv2D.Backward(new(dout, ys), new(x, xs), new(w, ws), p, new NchwSpan<float>(edx, xs), new NchwSpan<float>(edw, ws), edb);
        // At most two terms per output here: both orders round the same sums, so the results are equal.
        Assert.Equal(ey, y);
        Assert.Equal(edx, dx);
        Assert.Equal(edw, dw);
        Assert.Contains(dx, v => v != 0); // the taps that reach the image do contribute
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Zero_padding_times_infinity_is_nan_in_the_oracle_and_the_fast_kernel(int degree)
    {
        // x all ones (1,1,3,3), w[0] = +inf, pad 1: the top-left tap reads padding at the top row and left column
        // of the output, and 0 * inf = NaN there (IEEE over the zero-padded input, as the seed's np.pad).
        var xs = new Shape4(1, 1, 3, 3);
        float[] x = Enumerable.Repeat(1f, 9).ToArray(), w = Enumerable.Repeat(1f, 9).ToArray();
        w[0] = float.PositiveInfinity;
        float[] y = new float[9], ey = new float[9];
        Conv2D.Forward(new(x, xs), new(w, xs), [0f], new Conv2DParams(1, 1), new(y, xs), degree);
        Kernels.Reference.Conv2D.Forward(new(x, xs), new(w, xs), [0f], new Conv2DParams(1, 1), new NchwSpan<float>(ey, xs));
        bool[] nan = [true, true, true, true, false, false, true, false, false];
        for (int i = 0; i < 9; i++)
        {
            Assert.Equal(nan[i], float.IsNaN(ey[i]));
            Assert.Equal(nan[i], float.IsNaN(y[i]));
            if (!nan[i]) Assert.Equal(float.PositiveInfinity, y[i]);
        }
        // Backward: dout = +inf at a corner output whose window covers padding: dw gets inf * 0 = NaN there.
        float[] dout = new float[9], dx = new float[9], dw = new float[9], edx = new float[9], edw = new float[9], db = new float[1], edb = new float[1];
        dout[0] = float.PositiveInfinity;
        Conv2D.Backward(new(dout, xs), new(x, xs), new(w, xs), new Conv2DParams(1, 1), new(dx, xs), new(dw, xs), db, degree);
        Kernels.Reference.Conv2D.Backward(new(dout, xs), new(x, xs), new(w, xs), new Conv2DParams(1, 1), new NchwSpan<float>(edx, xs),
            new NchwSpan<float>(edw, xs), edb);
        for (int i = 0; i < 9; i++)
        {
            Assert.Equal(float.IsNaN(edw[i]), float.IsNaN(dw[i]));
            Assert.Equal(float.IsNaN(edx[i]), float.IsNaN(dx[i]));
        }
        Assert.True(float.IsNaN(dw[0]) && float.IsNaN(edw[0]), "dw[0] multiplies dout = inf by a padding zero");
    }

    [Fact]
    public void Pool_backward_adds_a_negative_zero_gradient_into_positive_zero()
    {
        // 2x2/2 windows on a row long enough for every vector width: a -0 gradient must land as +0, as the
        // oracle's sum into a cleared dx gives.
        var xs = new Shape4(1, 1, 2, 64);
        var ys = new Shape4(1, 1, 1, 32);
        float[] x = TestData.Floats(4, xs.Length), dout = Enumerable.Repeat(-0f, ys.Length).ToArray();
        float[] dx = new float[xs.Length], edx = new float[xs.Length];
        MaxPool2D.Backward(new(dout, ys), new(x, xs), new Pool2DParams(), new(dx, xs));
        Kernels.Reference.MaxPool2D.Backward(new(dout, ys), new(x, xs), new Pool2DParams(), new NchwSpan<float>(edx, xs));
        FloatAssert.BitwiseEqual(edx, dx, "max pool dx");
        AvgPool2D.Backward(new(dout, ys), xs, new Pool2DParams(), new(dx, xs));
        Kernels.Reference.AvgPool2D.Backward(new(dout, ys), xs, new Pool2DParams(), new NchwSpan<float>(edx, xs));
        FloatAssert.BitwiseEqual(edx, dx, "avg pool dx");
        Assert.All(dx, v => Assert.True(SameBits(v, 0f)));
    }

    [Fact]
    public void Svm_margin_is_rounded_in_the_oracles_order()
    {
        // s_j - s_y + 1 = 5.96e-8 in float, but s_j + (1 - s_y) rounds to 0: the margin must count as positive.
        float[] s = [-0.13070135f, -1.1307013f];
        float[] d = new float[2], ed = new float[2];
        float loss = Kernels.Losses.Svm(new ReadOnlySpan2D<float>(s, 1, 2), [0], new Span2D<float>(d, 1, 2));
        float expected = Kernels.Reference.Losses.Svm(new ReadOnlySpan2D<float>(s, 1, 2), [0], new Span2D<float>(ed, 1, 2));
        Assert.True(expected > 0, $"the oracle's margin {expected}");
        Assert.Equal(expected, loss);
        Assert.Equal(ed, d);
        Assert.Equal([-1f, 1f], d);
    }

    public static TheoryData<int> NanBits => new(0x7f800001, unchecked((int)0xff800001), unchecked((int)0xffc00123), 0x7fc00042, 0x7fffffff);

    [Theory, MemberData(nameof(NanBits))]
    public void Relu_forward_keeps_the_bits_of_every_nan(int bits)
    {
        float nan = BitConverter.Int32BitsToSingle(bits);
        foreach (int n in new[] { 1, 3, 4, 7, 8, 15, 16, 17, 33, 64, (1 << 20) + 1 })
        {
            float[] x = TestData.Floats(n, n, -1, 1);
            for (int i = 0; i < n; i += 5) x[i] = nan;
            x[n - 1] = nan;
            float[] expected = new float[n], y = new float[n], inPlace = (float[])x.Clone();
            Kernels.Reference.Relu.Forward<float>(x, expected);
            Relu.Forward(x, y);
            Relu.Forward(inPlace, inPlace);
            FloatAssert.BitwiseEqual(expected, y, $"relu n={n}");
            FloatAssert.BitwiseEqual(expected, inPlace, $"relu in place n={n}");
            Assert.True(SameBits(nan, y[n - 1]));
        }
    }
}
