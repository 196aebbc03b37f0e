using CommunityToolkit.HighPerformance;

namespace Kernels.Tests.Reference;

// Inside the namespace so that the oracles win over the fast kernels of the same names in namespace Kernels.
using Kernels.Reference;

/// <summary>Tiny cases worked out by hand; the arithmetic is in the comments.</summary>
public class KnownValueTests
{
    // x = 1 2 3     w = 1 2     b = 0.5
    //     4 5 6         3 4
    //     7 8 9
    private static readonly double[] X3 = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    private static readonly double[] W2 = [1, 2, 3, 4];

    [Fact]
    public void Conv_3x3_input_2x2_filter_stride1_pad0()
    {
        // out[0,0] = 1*1 + 2*2 + 4*3 + 5*4 = 37;  out[0,1] = 2*1 + 3*2 + 5*3 + 6*4 = 47
        // out[1,0] = 4*1 + 5*2 + 7*3 + 8*4 = 67;  out[1,1] = 5*1 + 6*2 + 8*3 + 9*4 = 77;  each + 0.5
        var y = new double[4];
        Conv2D.Forward(new ReadOnlyNchwSpan<double>(X3, 1, 1, 3, 3), new ReadOnlyNchwSpan<double>(W2, 1, 1, 2, 2), [0.5], new Conv2DParams(1, 0),
            new NchwSpan<double>(y, 1, 1, 2, 2));
        Assert.Equal([37.5, 47.5, 67.5, 77.5], y);
    }

    [Fact]
    public void Conv_3x3_input_2x2_filter_stride2_pad1()
    {
        // Output size floor((3 + 2 - 2) / 2) + 1 = 2. Window origins (-1,-1), (-1,1), (1,-1), (1,1) in x:
        // (-1,-1) sees only x[0,0] under w[1,1]: 1*4 = 4
        // (-1, 1) sees x[0,1], x[0,2] under w[1,0], w[1,1]: 2*3 + 3*4 = 18
        // ( 1,-1) sees x[1,0], x[2,0] under w[0,1], w[1,1]: 4*2 + 7*4 = 36
        // ( 1, 1) sees x[1,1], x[1,2], x[2,1], x[2,2]: 5*1 + 6*2 + 8*3 + 9*4 = 77;  each + 0.5
        var y = new double[4];
        Conv2D.Forward(new ReadOnlyNchwSpan<double>(X3, 1, 1, 3, 3), new ReadOnlyNchwSpan<double>(W2, 1, 1, 2, 2), [0.5], new Conv2DParams(2, 1),
            new NchwSpan<double>(y, 1, 1, 2, 2));
        Assert.Equal([4.5, 18.5, 36.5, 77.5], y);
    }

    [Fact]
    public void Conv_backward_with_unit_upstream_gradient()
    {
        // dout = all ones (2x2). db = 4.
        // dw[p,q] = sum of the x values it met: dw = (1+2+4+5, 2+3+5+6, 4+5+7+8, 5+6+8+9) = (12, 16, 24, 28).
        // dx[h,v] = sum of the w entries laid over (h,v): corners 1, 2, 3, 4; edges 1+2, 1+3, 2+4, 3+4; centre 10.
        double[] dx = new double[9], dw = new double[4], db = new double[1];
        Conv2D.Backward(new ReadOnlyNchwSpan<double>([1.0, 1, 1, 1], 1, 1, 2, 2), new ReadOnlyNchwSpan<double>(X3, 1, 1, 3, 3),
            new ReadOnlyNchwSpan<double>(W2, 1, 1, 2, 2), new Conv2DParams(1, 0),
            new NchwSpan<double>(dx, 1, 1, 3, 3), new NchwSpan<double>(dw, 1, 1, 2, 2), db);
        Assert.Equal([4.0], db);
        Assert.Equal([12.0, 16, 24, 28], dw);
        Assert.Equal([1.0, 3, 2, 4, 10, 6, 3, 7, 4], dx);
    }

    [Fact]
    public void MaxPool_backward_sends_ties_to_the_first_maximum()
    {
        // x = 1 3 3 0   windows 2x2 stride 2: {1,3,3,2} max 3 first at (0,1); {3,0,1,1} max 3 at (0,2).
        //     3 2 1 1   The seed's `window == max` rule would also have given (1,0) the first gradient.
        double[] x = [1, 3, 3, 0, 3, 2, 1, 1];
        var y = new double[2];
        MaxPool2D.Forward(new ReadOnlyNchwSpan<double>(x, 1, 1, 2, 4), new Pool2DParams(2, 2, 2), new NchwSpan<double>(y, 1, 1, 1, 2));
        Assert.Equal([3.0, 3.0], y);
        var dx = new double[8];
        MaxPool2D.Backward(new ReadOnlyNchwSpan<double>([5.0, 7.0], 1, 1, 1, 2), new ReadOnlyNchwSpan<double>(x, 1, 1, 2, 4),
            new Pool2DParams(2, 2, 2), new NchwSpan<double>(dx, 1, 1, 2, 4));
        Assert.Equal([0.0, 5, 7, 0, 0, 0, 0, 0], dx);
    }

    [Fact]
    public void MaxPool_overlapping_windows_add_their_gradients()
    {
        // x = 1 5 2   windows 2x2 stride 1: {1,5,0,3} and {5,2,3,4} both pick x[0,1] = 5, so dx[0,1] = 1 + 2.
        //     0 3 4
        double[] x = [1, 5, 2, 0, 3, 4];
        var dx = new double[6];
        MaxPool2D.Backward(new ReadOnlyNchwSpan<double>([1.0, 2.0], 1, 1, 1, 2), new ReadOnlyNchwSpan<double>(x, 1, 1, 2, 3),
            new Pool2DParams(2, 2, 1), new NchwSpan<double>(dx, 1, 1, 2, 3));
        Assert.Equal([0.0, 3, 0, 0, 0, 0], dx);
    }

    [Fact]
    public void AvgPool_forward_and_backward()
    {
        // x = 1 2 3 4   2x2 stride 2: (1+2+5+6)/4 = 3.5, (3+4+7+8)/4 = 5.5; backward spreads dout/4 over each window.
        //     5 6 7 8
        double[] x = [1, 2, 3, 4, 5, 6, 7, 8];
        var y = new double[2];
        AvgPool2D.Forward(new ReadOnlyNchwSpan<double>(x, 1, 1, 2, 4), new Pool2DParams(2, 2, 2), new NchwSpan<double>(y, 1, 1, 1, 2));
        Assert.Equal([3.5, 5.5], y);
        var dx = new double[8];
        AvgPool2D.Backward(new ReadOnlyNchwSpan<double>([4.0, 8.0], 1, 1, 1, 2), new Shape4(1, 1, 2, 4), new Pool2DParams(2, 2, 2),
            new NchwSpan<double>(dx, 1, 1, 2, 4));
        Assert.Equal([1.0, 1, 2, 2, 1, 1, 2, 2], dx);
    }

    [Fact]
    public void Relu_forward_backward_and_in_place()
    {
        double[] x = [-2, -0.0, 0, 3, double.NaN];
        var y = new double[5];
        Relu.Forward<double>(x, y);
        Assert.Equal([0.0, 0, 0, 3, double.NaN], y);
        Assert.False(double.IsNegative(y[1]), "relu(-0) is +0");
        double[] dout = [1, 2, 3, 4, 5];
        Relu.Backward<double>(dout, x, dout); // in place over dout: allowed
        Assert.Equal([0.0, 0, 0, 4, 0], dout);
        Assert.Equal(-2.0, x[0]); // x untouched
    }

    [Fact]
    public void Relu_backward_leaves_dout_untouched_when_dx_is_separate()
    {
        // The seed's relu_backward wrote into dout; ours must not.
        double[] x = [-1, 1], dout = [5, 6], dx = new double[2];
        Relu.Backward<double>(dout, x, dx);
        Assert.Equal([5.0, 6], dout);
        Assert.Equal([0.0, 6], dx);
    }

    [Fact]
    public void Affine_forward_and_backward()
    {
        // x (2x2) = [[1,2],[3,4]], w (2x3) = [[1,0,-1],[2,1,0]], b = [1,1,1]
        // y = x w + b = [[1+4, 2, -1] + 1, [3+8, 4, -3] + 1] = [[6,3,0],[12,5,-2]]
        double[] x = [1, 2, 3, 4], w = [1, 0, -1, 2, 1, 0], y = new double[6];
        Affine.Forward(new ReadOnlySpan2D<double>(x, 2, 2), new ReadOnlySpan2D<double>(w, 2, 3), [1.0, 1, 1], new Span2D<double>(y, 2, 3));
        Assert.Equal([6.0, 3, 0, 12, 5, -2], y);
        // dout = ones: dx = dout w^T = row sums of w = [0, 3] per row; dw = x^T dout = column sums of x (4, 6) per row; db = [2,2,2].
        double[] dout = [1, 1, 1, 1, 1, 1], dx = new double[4], dw = new double[6], db = new double[3];
        Affine.Backward(new ReadOnlySpan2D<double>(dout, 2, 3), new ReadOnlySpan2D<double>(x, 2, 2), new ReadOnlySpan2D<double>(w, 2, 3),
            new Span2D<double>(dx, 2, 2), new Span2D<double>(dw, 2, 3), db);
        Assert.Equal([0.0, 3, 0, 3], dx);
        Assert.Equal([4.0, 4, 4, 6, 6, 6], dw);
        Assert.Equal([2.0, 2, 2], db);
    }

    [Fact]
    public void Softmax_of_equal_huge_scores_is_log_C_and_finite()
    {
        // All three scores 1000: softmax = 1/3 each, loss = ln 3; naive exp(1000) would overflow.
        var ds = new double[3];
        double loss = Losses.Softmax(new ReadOnlySpan2D<double>([1000.0, 1000, 1000], 1, 3), [0], new Span2D<double>(ds, 1, 3));
        Assert.Equal(Math.Log(3), loss, 14);
        Assert.Equal(1.0 / 3 - 1, ds[0], 14);
        Assert.Equal(1.0 / 3, ds[1], 14);
    }

    [Fact]
    public void Softmax_of_very_negative_correct_score_is_finite()
    {
        // scores (-1000, 0), label 0: logsumexp = 0 + log(1 + e^-1000) = 0, loss = 0 - (-1000) = 1000; dscores = (e^-1000 - 1, 1) = (-1, 1).
        var ds = new double[2];
        double loss = Losses.Softmax(new ReadOnlySpan2D<double>([-1000.0, 0], 1, 2), [0], new Span2D<double>(ds, 1, 2));
        Assert.Equal(1000.0, loss);
        Assert.Equal([-1.0, 1], ds);
    }

    [Fact]
    public void Svm_hinge_by_hand()
    {
        // Row 0: scores (3, 1, 4), label 0: margins 1-3+1 = -1 -> 0, 4-3+1 = 2 -> loss 2; grad (-1, 0, 1).
        // Row 1: scores (0, 0, 0), label 2: margins 1, 1 -> loss 2; grad (1, 1, -2). Mean over 2 rows: loss 2, grads / 2.
        var ds = new double[6];
        double loss = Losses.Svm(new ReadOnlySpan2D<double>([3.0, 1, 4, 0, 0, 0], 2, 3), [0, 2], new Span2D<double>(ds, 2, 3));
        Assert.Equal(2.0, loss);
        Assert.Equal([-0.5, 0, 0.5, 0.5, 0.5, -1], ds);
    }

    [Fact]
    public void Mse_by_hand()
    {
        // pred - target = (1, 0, 0, 2): 0.5 * (1 + 4) / 2 rows = 1.25; dpred = diff / 2.
        var dp = new double[4];
        double loss = Losses.MeanSquaredError(new ReadOnlySpan2D<double>([1.0, 2, 3, 4], 2, 2), new ReadOnlySpan2D<double>([0.0, 2, 3, 2], 2, 2),
            new Span2D<double>(dp, 2, 2));
        Assert.Equal(1.25, loss);
        Assert.Equal([0.5, 0, 0, 1], dp);
    }

    [Fact]
    public void Gemm_2x2_and_beta_zero_ignores_nan_in_c()
    {
        // [[1,2],[3,4]] * [[5,6],[7,8]] = [[19,22],[43,50]]; beta = 0 must overwrite the NaNs in C.
        double[] c = [double.NaN, double.NaN, double.NaN, double.NaN];
        Gemm.Multiply(MatrixTranspose.None, MatrixTranspose.None, 1.0, new ReadOnlySpan2D<double>([1.0, 2, 3, 4], 2, 2),
            new ReadOnlySpan2D<double>([5.0, 6, 7, 8], 2, 2), 0.0, new Span2D<double>(c, 2, 2));
        Assert.Equal([19.0, 22, 43, 50], c);
    }

    [Fact]
    public void Gemm_respects_leading_dimensions()
    {
        // A is the left 2x2 block of a 2x3 buffer (pitch 1); C is the left 2x2 block of a 2x4 buffer (pitch 2).
        double[] a = [1, 2, -9, 3, 4, -9];
        double[] c = [0, 0, 7, 7, 0, 0, 7, 7];
        Gemm.Multiply(MatrixTranspose.None, MatrixTranspose.None, 1.0, new ReadOnlySpan2D<double>(a, 0, 2, 2, 1),
            new ReadOnlySpan2D<double>([5.0, 6, 7, 8], 2, 2), 0.0, new Span2D<double>(c, 0, 2, 2, 2));
        Assert.Equal([19.0, 22, 7, 7, 43, 50, 7, 7], c);
    }
}
