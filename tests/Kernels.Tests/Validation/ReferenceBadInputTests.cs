using CommunityToolkit.HighPerformance;
using Kernels.Diagnostics;

namespace Kernels.Tests.Validation;

// Inside the namespace so that the oracles win over the fast kernels of the same names in namespace Kernels.
using Kernels.Reference;

/// <summary>
/// One row per kind of bad input for every public entry of the reference layers: the call must throw the
/// documented exception type, its message must name the parameter and the expected and actual values, and no
/// output may be written (outputs start filled with a sentinel that must survive).
/// </summary>
public class ReferenceBadInputTests
{
    private const double Sentinel = -12345.5;

    private static readonly double[] X4 = new double[1 * 4 * 5 * 5], W3 = new double[2 * 3 * 3 * 3], W4 = new double[2 * 4 * 3 * 3];

    private static ReadOnlyNchwSpan<double> V(double[] a, int n, int c, int h, int w) => new(a, n, c, h, w);
    private static NchwSpan<double> O(double[] a, int n, int c, int h, int w) => new(a, n, c, h, w);

    public static readonly Dictionary<string, BadInputRow<double>> Rows = new()
    {
        ["conv forward: channel mismatch"] = BadInputRow<double>.Arg(["w", "3 input channels", "x has 4"], [2 * 9],
            o => Conv2D.Forward(V(X4, 1, 4, 5, 5), V(W3, 2, 3, 3, 3), new double[2], new Conv2DParams(1, 0), O(o[0], 1, 2, 3, 3))),
        ["conv forward: bias length"] = BadInputRow<double>.Arg(["b", "length 3", "2 filters"], [2 * 9],
            o => Conv2D.Forward(V(X4, 1, 4, 5, 5), V(W4, 2, 4, 3, 3), new double[3], new Conv2DParams(1, 0), O(o[0], 1, 2, 3, 3))),
        ["conv forward: stride 0"] = BadInputRow<double>.Range(["p", "Stride", ">= 1", "0"], [2 * 9],
            o => Conv2D.Forward(V(X4, 1, 4, 5, 5), V(W4, 2, 4, 3, 3), new double[2], new Conv2DParams(0, 0), O(o[0], 1, 2, 3, 3))),
        ["conv forward: negative pad"] = BadInputRow<double>.Range(["p", "Pad", ">= 0", "-1"], [2 * 9],
            o => Conv2D.Forward(V(X4, 1, 4, 5, 5), V(W4, 2, 4, 3, 3), new double[2], new Conv2DParams(1, -1), O(o[0], 1, 2, 3, 3))),
        ["conv forward: output below 1"] = BadInputRow<double>.Arg(["filter", "7", "padded input H size 5"], [2],
            o => Conv2D.Forward(V(X4, 1, 4, 5, 5), V(new double[2 * 4 * 7 * 7], 2, 4, 7, 7), new double[2], new Conv2DParams(1, 0), O(o[0], 1, 2, 1, 1))),
        ["conv forward: groups do not divide C"] = BadInputRow<double>.Arg(["p", "Groups must divide x's 4 channels", "is 3"], [2 * 9],
            o => Conv2D.Forward(V(X4, 1, 4, 5, 5), V(new double[3 * 9], 3, 1, 3, 3), new double[3], new Conv2DParams(1, 0) { Groups = 3 }, O(o[0], 1, 2, 3, 3))),
        ["conv forward: groups do not divide F"] = BadInputRow<double>.Arg(["w", "3 filters", "p.Groups (2) must divide"], [3 * 9],
            o => Conv2D.Forward(V(X4, 1, 4, 5, 5), V(new double[3 * 2 * 9], 3, 2, 3, 3), new double[3], new Conv2DParams(1, 0) { Groups = 2 }, O(o[0], 1, 3, 3, 3))),
        ["conv forward: dilation 0"] = BadInputRow<double>.Range(["p", "DilationH", ">= 1", "0"], [2 * 9],
            o => Conv2D.Forward(V(X4, 1, 4, 5, 5), V(W4, 2, 4, 3, 3), new double[2], new Conv2DParams(1, 0) { DilationH = 0 }, O(o[0], 1, 2, 3, 3))),
        ["conv forward: dilated filter larger than the padded input"] = BadInputRow<double>.Arg(["filter", "dilation 3 spans 7", "padded input W size 6"], [2],
            o => Conv2D.Forward(V(X4, 1, 4, 5, 5), V(W4, 2, 4, 3, 3), new double[2], new Conv2DParams(1, 0) { DilationW = 3, PadLeft = 1 }, O(o[0], 1, 2, 1, 1))),
        ["conv forward: wrong output shape"] = BadInputRow<double>.Arg(["y", "(1, 2, 2, 3)", "(1, 2, 3, 3)"], [2 * 6],
            o => Conv2D.Forward(V(X4, 1, 4, 5, 5), V(W4, 2, 4, 3, 3), new double[2], new Conv2DParams(1, 0), O(o[0], 1, 2, 2, 3))),
        ["conv backward: dout shape"] = BadInputRow<double>.Arg(["dout", "(1, 2, 4, 4)", "(1, 2, 3, 3)"], [X4.Length, W4.Length, 2],
            o => Conv2D.Backward(V(new double[32], 1, 2, 4, 4), V(X4, 1, 4, 5, 5), V(W4, 2, 4, 3, 3), new Conv2DParams(1, 0),
                O(o[0], 1, 4, 5, 5), O(o[1], 2, 4, 3, 3), o[2])),
        ["conv backward: dx shape"] = BadInputRow<double>.Arg(["dx", "(1, 4, 5, 4)", "(1, 4, 5, 5)"], [80, W4.Length, 2],
            o => Conv2D.Backward(V(new double[18], 1, 2, 3, 3), V(X4, 1, 4, 5, 5), V(W4, 2, 4, 3, 3), new Conv2DParams(1, 0),
                O(o[0], 1, 4, 5, 4), O(o[1], 2, 4, 3, 3), o[2])),
        ["conv backward: db length"] = BadInputRow<double>.Arg(["b", "length 3", "2 filters"], [X4.Length, W4.Length, 3],
            o => Conv2D.Backward(V(new double[18], 1, 2, 3, 3), V(X4, 1, 4, 5, 5), V(W4, 2, 4, 3, 3), new Conv2DParams(1, 0),
                O(o[0], 1, 4, 5, 5), O(o[1], 2, 4, 3, 3), o[2])),
        ["max pool: window larger than input"] = BadInputRow<double>.Arg(["filter", "6", "padded input H size 5"], [4],
            o => MaxPool2D.Forward(V(X4, 1, 4, 5, 5), new Pool2DParams(6, 2, 2), O(o[0], 1, 4, 1, 1))),
        ["max pool: stride 0"] = BadInputRow<double>.Range(["p", "Stride", ">= 1", "0"], [16],
            o => MaxPool2D.Forward(V(X4, 1, 4, 5, 5), new Pool2DParams(2, 2, 0), O(o[0], 1, 4, 2, 2))),
        ["max pool: window width 0"] = BadInputRow<double>.Range(["p", "PoolWidth", ">= 1", "0"], [16],
            o => MaxPool2D.Forward(V(X4, 1, 4, 5, 5), new Pool2DParams(2, 0, 2), O(o[0], 1, 4, 2, 2))),
        ["max pool: wrong output shape"] = BadInputRow<double>.Arg(["y", "(1, 4, 3, 3)", "(1, 4, 2, 2)"], [36],
            o => MaxPool2D.Forward(V(X4, 1, 4, 5, 5), new Pool2DParams(2, 2, 2), O(o[0], 1, 4, 3, 3))),
        ["max pool backward: dx shape"] = BadInputRow<double>.Arg(["dx", "(1, 4, 5, 4)", "(1, 4, 5, 5)"], [80],
            o => MaxPool2D.Backward(V(new double[16], 1, 4, 2, 2), V(X4, 1, 4, 5, 5), new Pool2DParams(2, 2, 2), O(o[0], 1, 4, 5, 4))),
        ["avg pool: wrong output shape"] = BadInputRow<double>.Arg(["y", "(1, 4, 2, 3)", "(1, 4, 2, 2)"], [24],
            o => AvgPool2D.Forward(V(X4, 1, 4, 5, 5), new Pool2DParams(2, 2, 2), O(o[0], 1, 4, 2, 3))),
        ["avg pool backward: dout shape"] = BadInputRow<double>.Arg(["dout", "(1, 4, 3, 2)", "(1, 4, 2, 2)"], [100],
            o => AvgPool2D.Backward(V(new double[24], 1, 4, 3, 2), new Shape4(1, 4, 5, 5), new Pool2DParams(2, 2, 2), O(o[0], 1, 4, 5, 5))),
        ["relu: output length"] = BadInputRow<double>.Arg(["y", "length 4", "needs 5"], [4], o => Relu.Forward<double>(new double[5], o[0])),
        ["relu backward: dout length"] = BadInputRow<double>.Arg(["dout", "length 4", "needs 5"], [5], o => Relu.Backward<double>(new double[4], new double[5], o[0])),
        ["relu backward: dx length"] = BadInputRow<double>.Arg(["dx", "length 6", "needs 5"], [6], o => Relu.Backward<double>(new double[5], new double[5], o[0])),
        ["affine: w rows"] = BadInputRow<double>.Arg(["w", "5 rows", "4 features"], [6],
            o => Affine.Forward(new ReadOnlySpan2D<double>(new double[8], 2, 4), new ReadOnlySpan2D<double>(new double[15], 5, 3), new double[3], new Span2D<double>(o[0], 2, 3))),
        ["affine: bias length"] = BadInputRow<double>.Arg(["b", "length 2", "3 columns"], [6],
            o => Affine.Forward(new ReadOnlySpan2D<double>(new double[8], 2, 4), new ReadOnlySpan2D<double>(new double[12], 4, 3), new double[2], new Span2D<double>(o[0], 2, 3))),
        ["affine: output shape"] = BadInputRow<double>.Arg(["y", "3 x 2", "2 x 3"], [6],
            o => Affine.Forward(new ReadOnlySpan2D<double>(new double[8], 2, 4), new ReadOnlySpan2D<double>(new double[12], 4, 3), new double[3], new Span2D<double>(o[0], 3, 2))),
        ["affine backward: dw shape"] = BadInputRow<double>.Arg(["dw", "3 x 4", "4 x 3"], [8, 12, 3],
            o => Affine.Backward(new ReadOnlySpan2D<double>(new double[6], 2, 3), new ReadOnlySpan2D<double>(new double[8], 2, 4), new ReadOnlySpan2D<double>(new double[12], 4, 3),
                new Span2D<double>(o[0], 2, 4), new Span2D<double>(o[1], 3, 4), o[2])),
        ["softmax: label out of range"] = BadInputRow<double>.Range(["labels", "labels[1] is 3", "[0, 3)"], [6],
            o => Losses.Softmax(new ReadOnlySpan2D<double>(new double[6], 2, 3), [0, 3], new Span2D<double>(o[0], 2, 3))),
        ["softmax: negative label"] = BadInputRow<double>.Range(["labels", "labels[0] is -1", "[0, 3)"], [6],
            o => Losses.Softmax(new ReadOnlySpan2D<double>(new double[6], 2, 3), [-1, 0], new Span2D<double>(o[0], 2, 3))),
        ["softmax: labels length"] = BadInputRow<double>.Arg(["labels", "length 3", "2 rows"], [6],
            o => Losses.Softmax(new ReadOnlySpan2D<double>(new double[6], 2, 3), [0, 1, 2], new Span2D<double>(o[0], 2, 3))),
        ["svm: dscores shape"] = BadInputRow<double>.Arg(["dscores", "3 x 2", "2 x 3"], [6],
            o => Losses.Svm(new ReadOnlySpan2D<double>(new double[6], 2, 3), [0, 1], new Span2D<double>(o[0], 3, 2))),
        ["mse: target shape"] = BadInputRow<double>.Arg(["target", "3 x 2", "2 x 3"], [6],
            o => Losses.MeanSquaredError(new ReadOnlySpan2D<double>(new double[6], 2, 3), new ReadOnlySpan2D<double>(new double[6], 3, 2), new Span2D<double>(o[0], 2, 3))),
        ["gemm: inner dimension"] = BadInputRow<double>.Arg(["b", "3 rows", "4 columns"], [4],
            o => Gemm.Multiply(MatrixTranspose.None, MatrixTranspose.None, 1.0, new ReadOnlySpan2D<double>(new double[8], 2, 4),
                new ReadOnlySpan2D<double>(new double[6], 3, 2), 0.0, new Span2D<double>(o[0], 2, 2))),
        ["gemm: output shape"] = BadInputRow<double>.Arg(["c", "2 x 3", "2 x 2"], [6],
            o => Gemm.Multiply(MatrixTranspose.None, MatrixTranspose.Transpose, 1.0, new ReadOnlySpan2D<double>(new double[8], 2, 4),
                new ReadOnlySpan2D<double>(new double[8], 2, 4), 0.0, new Span2D<double>(o[0], 2, 3))),
        ["gemm: bad transpose value"] = BadInputRow<double>.Range(["transA", "None or Transpose", "7"], [4],
            o => Gemm.Multiply((MatrixTranspose)7, MatrixTranspose.None, 1.0, new ReadOnlySpan2D<double>(new double[4], 2, 2),
                new ReadOnlySpan2D<double>(new double[4], 2, 2), 0.0, new Span2D<double>(o[0], 2, 2))),
        ["gemm: c overlaps a"] = BadInputRow<double>.Arg(["c", "overlaps a"], [8],
            o => Gemm.Multiply(MatrixTranspose.None, MatrixTranspose.None, 1.0, new ReadOnlySpan2D<double>(o[0], 0, 2, 2, 0),
                new ReadOnlySpan2D<double>(new double[4], 2, 2), 0.0, new Span2D<double>(o[0], 2, 2, 2, 0))),
        ["shape: negative dimension"] = BadInputRow<double>.Range(["c", ">= 1", "-3"], [], _ => new Shape4(1, -3, 2, 2)),
        ["shape: element count overflows int"] = BadInputRow<double>.Range(["n", "2500000000", "2147483647"], [], _ => new Shape4(50000, 50000, 1, 1)),
        ["view: span length"] = BadInputRow<double>.Arg(["span", "length 7", "(1, 2, 2, 2)", "needs 8"], [7], o => new NchwSpan<double>(o[0], 1, 2, 2, 2)),
        ["gradient check: h = 0"] = BadInputRow<double>.Range(["h", "> 0", "0"], [3], o => GradientCheck.NumericalGradient(() => 0, new double[3], o[0], 0)),
        ["gradient check: grad length"] = BadInputRow<double>.Arg(["grad", "length 2", "needs 3"], [2], o => GradientCheck.NumericalGradient(() => 0, new double[3], o[0])),
    };

    public static TheoryData<string> Names => new(Rows.Keys);

    [Theory, MemberData(nameof(Names))]
    public void Bad_input_throws_a_named_error_and_writes_nothing(string name) => Rows[name].Check(Sentinel);
}
