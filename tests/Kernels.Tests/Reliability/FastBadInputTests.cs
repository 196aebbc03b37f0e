using CommunityToolkit.HighPerformance;
using Kernels.Nn;

namespace Kernels.Tests.Reliability;

/// <summary>
/// The bad-input table for the fast kernels and the model/solver: each row must throw the documented exception
/// with the parameter, expected and actual value in its message, and leave every output as it was (sentinel).
/// </summary>
public class FastBadInputTests
{
    private const float Sentinel = -4242.5f;

    private static readonly float[] X = new float[2 * 4 * 5 * 5], W = new float[3 * 4 * 3 * 3];
    private static ReadOnlyNchwSpan<float> V(float[] a, int n, int c, int h, int w) => new(a, n, c, h, w);
    private static NchwSpan<float> O(float[] a, int n, int c, int h, int w) => new(a, n, c, h, w);

    public static readonly Dictionary<string, BadInputRow<float>> Rows = new()
    {
        ["gemm: inner dimension"] = BadInputRow<float>.Arg(["b", "3 rows", "4 columns"], [4], o => Kernels.Gemm.Multiply(MatrixTranspose.None, MatrixTranspose.None, 1f,
            new ReadOnlySpan2D<float>(new float[8], 2, 4), new ReadOnlySpan2D<float>(new float[6], 3, 2), 0f, new Span2D<float>(o[0], 2, 2), D)),
        ["gemm: c overlaps b"] = BadInputRow<float>.Arg(["c", "overlaps b"], [16], o => Kernels.Gemm.Multiply(MatrixTranspose.None, MatrixTranspose.None, 1f,
            new ReadOnlySpan2D<float>(new float[4], 2, 2), new ReadOnlySpan2D<float>(o[0], 0, 2, 2, 0), 0f, new Span2D<float>(o[0], 3, 2, 2, 0), D)),
        ["gemm: degree of parallelism 0"] = BadInputRow<float>.Range(["maxDegreeOfParallelism", "-1 (all cores) or >= 1", "0"], [4], o => Kernels.Gemm.Multiply(MatrixTranspose.None,
            MatrixTranspose.None, 1f, new ReadOnlySpan2D<float>(new float[4], 2, 2), new ReadOnlySpan2D<float>(new float[4], 2, 2), 0f, new Span2D<float>(o[0], 2, 2), 0)),
        ["conv: channel mismatch"] = BadInputRow<float>.Arg(["w", "has 3 input channels but x has 4"], [2 * 3 * 9],
            o => Conv2D.Forward(V(X, 2, 4, 5, 5), V(new float[3 * 3 * 9], 3, 3, 3, 3), new float[3], new Conv2DParams(1, 0), O(o[0], 2, 3, 3, 3), D)),
        ["conv: stride 0"] = BadInputRow<float>.Range(["p.Stride", ">= 1", "0"], [2 * 3 * 9], o => Conv2D.Forward(V(X, 2, 4, 5, 5), V(W, 3, 4, 3, 3), new float[3], new Conv2DParams(0, 0), O(o[0], 2, 3, 3, 3), D)),
        ["conv: negative pad"] = BadInputRow<float>.Range(["p.Pad", ">= 0", "-2"], [2 * 3 * 9], o => Conv2D.Forward(V(X, 2, 4, 5, 5), V(W, 3, 4, 3, 3), new float[3], new Conv2DParams(1, -2), O(o[0], 2, 3, 3, 3), D)),
        ["conv: groups do not divide C"] = BadInputRow<float>.Arg(["p", "Groups must divide x's 4 channels", "is 3"], [2 * 3 * 9],
            o => Conv2D.Forward(V(X, 2, 4, 5, 5), V(new float[3 * 9], 3, 1, 3, 3), new float[3], new Conv2DParams(1, 0) { Groups = 3 }, O(o[0], 2, 3, 3, 3), D)),
        ["conv: groups do not divide F"] = BadInputRow<float>.Arg(["w", "3 filters", "p.Groups (2) must divide"], [2 * 3 * 9],
            o => Conv2D.Forward(V(X, 2, 4, 5, 5), V(new float[3 * 2 * 9], 3, 2, 3, 3), new float[3], new Conv2DParams(1, 0) { Groups = 2 }, O(o[0], 2, 3, 3, 3), D)),
        ["conv: channels per group"] = BadInputRow<float>.Arg(["w", "4 input channels per filter", "2 groups need 2"], [2 * 3 * 9],
            o => Conv2D.Forward(V(X, 2, 4, 5, 5), V(new float[4 * 4 * 9], 4, 4, 3, 3), new float[4], new Conv2DParams(1, 0) { Groups = 2 }, O(o[0], 2, 3, 3, 3), D)),
        ["conv: dilation 0"] = BadInputRow<float>.Range(["p.DilationW", ">= 1", "0"], [2 * 3 * 9],
            o => Conv2D.Forward(V(X, 2, 4, 5, 5), V(W, 3, 4, 3, 3), new float[3], new Conv2DParams(1, 0) { DilationW = 0 }, O(o[0], 2, 3, 3, 3), D)),
        ["conv: negative right pad"] = BadInputRow<float>.Range(["p.PadRight", ">= 0", "-1"], [2 * 3 * 9],
            o => Conv2D.Forward(V(X, 2, 4, 5, 5), V(W, 3, 4, 3, 3), new float[3], new Conv2DParams(1, 0) { PadRight = -1 }, O(o[0], 2, 3, 3, 3), D)),
        ["conv: dilated filter larger than the padded input"] = BadInputRow<float>.Arg(["filter", "dilation 3 spans 7", "padded input H size 6"], [2 * 3],
            o => Conv2D.Forward(V(X, 2, 4, 5, 5), V(W, 3, 4, 3, 3), new float[3], new Conv2DParams(1, 0) { Dilation = 3, PadBottom = 1 }, O(o[0], 2, 3, 1, 1), D)),
        ["conv: forced depthwise on several channels per filter"] = BadInputRow<float>.Arg(["algorithm", "Depthwise", "one input channel per filter"], [2 * 3 * 9],
            o => Conv2D.Forward(V(X, 2, 4, 5, 5), V(W, 3, 4, 3, 3), new float[3], new Conv2DParams(1, 0), O(o[0], 2, 3, 3, 3), D, Conv2DAlgorithm.Depthwise)),
        ["conv: forced winograd with dilation"] = BadInputRow<float>.Arg(["algorithm", "Winograd", "dilation 2x2"], [2 * 3 * 1],
            o => Conv2D.Forward(V(X, 2, 4, 5, 5), V(W, 3, 4, 3, 3), new float[3], new Conv2DParams(1, 0) { Dilation = 2 }, O(o[0], 2, 3, 1, 1), D, Conv2DAlgorithm.Winograd)),
        ["conv backward: depthwise dw shape"] = BadInputRow<float>.Arg(["dw", "(8, 1, 3, 2)", "(8, 1, 3, 3)"], [X.Length, 48, 8],
            o => Conv2D.Backward(V(new float[2 * 8 * 9], 2, 8, 3, 3), V(X, 2, 4, 5, 5), V(new float[8 * 9], 8, 1, 3, 3), new Conv2DParams(1, 0) { Groups = 4 },
                O(o[0], 2, 4, 5, 5), O(o[1], 8, 1, 3, 2), o[2], D)),
        ["conv: wrong output shape"] = BadInputRow<float>.Arg(["y", "(2, 3, 3, 2)", "(2, 3, 3, 3)"], [2 * 3 * 6],
            o => Conv2D.Forward(V(X, 2, 4, 5, 5), V(W, 3, 4, 3, 3), new float[3], new Conv2DParams(1, 0), O(o[0], 2, 3, 3, 2), D)),
        ["conv: y overlaps x"] = BadInputRow<float>.Arg(["y", "overlaps x"], [X.Length],
            o => Conv2D.Forward(V(o[0], 2, 4, 5, 5), V(W, 3, 4, 3, 3), new float[3], new Conv2DParams(1, 0), new NchwSpan<float>(o[0].AsSpan(0, 54), 2, 3, 3, 3), D)),
        ["conv backward: dw shape"] = BadInputRow<float>.Arg(["dw", "(3, 4, 3, 2)", "(3, 4, 3, 3)"], [X.Length, 72, 3],
            o => Conv2D.Backward(V(new float[54], 2, 3, 3, 3), V(X, 2, 4, 5, 5), V(W, 3, 4, 3, 3), new Conv2DParams(1, 0), O(o[0], 2, 4, 5, 5), O(o[1], 3, 4, 3, 2), o[2], D)),
        ["conv backward: degree of parallelism -3"] = BadInputRow<float>.Range(["maxDegreeOfParallelism", "-3"], [X.Length, W.Length, 3],
            o => Conv2D.Backward(V(new float[54], 2, 3, 3, 3), V(X, 2, 4, 5, 5), V(W, 3, 4, 3, 3), new Conv2DParams(1, 0), O(o[0], 2, 4, 5, 5), O(o[1], 3, 4, 3, 3), o[2], -3)),
        ["max pool: window larger than input"] = BadInputRow<float>.Arg(["filter", "6", "padded input W size 5"], [8], o => MaxPool2D.Forward(V(X, 2, 4, 5, 5), new Pool2DParams(2, 6, 2), O(o[0], 2, 4, 1, 1), D)),
        ["max pool: wrong output"] = BadInputRow<float>.Arg(["y", "(2, 4, 2, 3)", "(2, 4, 2, 2)"], [48], o => MaxPool2D.Forward(V(X, 2, 4, 5, 5), new Pool2DParams(), O(o[0], 2, 4, 2, 3), D)),
        ["max pool backward: dx overlaps x"] = BadInputRow<float>.Arg(["dx", "overlaps x"], [X.Length],
            o => MaxPool2D.Backward(V(new float[32], 2, 4, 2, 2), V(o[0], 2, 4, 5, 5), new Pool2DParams(), O(o[0], 2, 4, 5, 5), D)),
        ["avg pool: stride 0"] = BadInputRow<float>.Range(["p.Stride", ">= 1", "0"], [32], o => AvgPool2D.Forward(V(X, 2, 4, 5, 5), new Pool2DParams(2, 2, 0), O(o[0], 2, 4, 2, 2), D)),
        ["relu: shifted overlap"] = BadInputRow<float>.Arg(["y", "overlaps x shifted by"], [40], o => Relu.Forward(o[0].AsSpan(0, 32), o[0].AsSpan(4, 32), D)),
        ["relu backward: length"] = BadInputRow<float>.Arg(["dx", "length 9", "needs 8"], [9], o => Relu.Backward(new float[8], new float[8], o[0], D)),
        ["affine: bias length"] = BadInputRow<float>.Arg(["b", "length 4", "3 columns"], [6], o => Affine.Forward(new ReadOnlySpan2D<float>(new float[8], 2, 4),
            new ReadOnlySpan2D<float>(new float[12], 4, 3), new float[4], new Span2D<float>(o[0], 2, 3), D)),
        ["affine backward: dx shape"] = BadInputRow<float>.Arg(["dx", "2 x 3", "2 x 4"], [6, 12, 3], o => Affine.Backward(new ReadOnlySpan2D<float>(new float[6], 2, 3),
            new ReadOnlySpan2D<float>(new float[8], 2, 4), new ReadOnlySpan2D<float>(new float[12], 4, 3), new Span2D<float>(o[0], 2, 3), new Span2D<float>(o[1], 4, 3), o[2], D)),
        ["softmax: label out of range"] = BadInputRow<float>.Range(["labels", "labels[0] is 7", "[0, 3)"], [6], o => Kernels.Losses.Softmax(new ReadOnlySpan2D<float>(new float[6], 2, 3), [7, 0],
            new Span2D<float>(o[0], 2, 3), D)),
        ["svm: labels length"] = BadInputRow<float>.Arg(["labels", "length 1", "2 rows"], [6], o => Kernels.Losses.Svm(new ReadOnlySpan2D<float>(new float[6], 2, 3), [0], new Span2D<float>(o[0], 2, 3), D)),
        ["mse: dpred overlaps pred"] = BadInputRow<float>.Arg(["dpred", "overlaps pred"], [6], o => Kernels.Losses.MeanSquaredError(new ReadOnlySpan2D<float>(o[0], 2, 3),
            new ReadOnlySpan2D<float>(new float[6], 2, 3), new Span2D<float>(o[0], 2, 3), D)),
        ["view: element count overflows int"] = BadInputRow<float>.Range(["n", "elements but at most 2147483647"], [], _ => new Shape4(1 << 16, 1 << 16, 1, 1)),
        ["model: NaN regularisation"] = BadInputRow<float>.Range(["Reg", "finite", "NaN"], [], _ => new ThreeLayerConvNet<float>(new FastKernels(), new ConvNetOptions(1, 8, 8, 2, 3, 4, 2)).Reg = double.NaN),
        ["model: NaN weight scale"] = BadInputRow<float>.Range(["WeightScale", "finite", "NaN"], [], _ => new ThreeLayerConvNet<float>(new FastKernels(), new ConvNetOptions(1, 8, 8, 2, 3, 4, 2, WeightScale: double.NaN))),
        ["model: zero filters"] = BadInputRow<float>.Range(["Filters", ">= 1", "0"], [], _ => new ThreeLayerConvNet<float>(new FastKernels(), new ConvNetOptions(1, 8, 8, Filters: 0))),
        ["optimizer: NaN learning rate"] = BadInputRow<float>.Range(["LearningRate", "> 0", "NaN"], [], _ => new Adam<float>(double.NaN)),
        ["optimizer: momentum 1"] = BadInputRow<float>.Range(["momentum", "[0, 1)", "1"], [], _ => new SgdMomentum<float>(0.1, 1.0)),
        ["optimizer: negative epsilon"] = BadInputRow<float>.Range(["epsilon", "> 0", "-1"], [], _ => new RmsProp<float>(0.1, 0.9, -1)),
        ["solver: NaN decay"] = BadInputRow<float>.Range(["LearningRateDecay", "(0, 1]", "NaN"], [], _ => Solver(new SolverOptions(LearningRateDecay: double.NaN))),
        ["solver: decay that underflows the rate"] = BadInputRow<float>.Range(["LearningRateDecay", "1E-200", "after epoch 2 of 10", "must stay > 0"], [],
            _ => Solver(new SolverOptions(LearningRateDecay: 1e-200))),
        ["solver: zero batch"] = BadInputRow<float>.Range(["BatchSize", ">= 1", "0"], [], _ => Solver(new SolverOptions(BatchSize: 0))),
        ["fast kernels: degree 0"] = BadInputRow<float>.Range(["maxDegreeOfParallelism", "0"], [], _ => new FastKernels(0)),
    };

    private static Solver<float> Solver(SolverOptions options)
    {
        var data = new Kernels.Data.LabeledImages(NchwTensor<float>.Create(new Shape4(4, 1, 8, 8)), [0, 1, 0, 1]);
        return new Solver<float>(new ThreeLayerConvNet<float>(new FastKernels(), new ConvNetOptions(1, 8, 8, 2, 3, 4, 2)), data, data, new Sgd<float>(), options);
    }

    /// <summary>The degree of parallelism the rows pass to every kernel: the table runs at 1 and at 2 threads.</summary>
    private static int D => s_degree.Value;
    private static readonly AsyncLocal<int> s_degree = new();

    public static TheoryData<string, int> Names
    {
        get
        {
            var data = new TheoryData<string, int>();
            foreach (string name in Rows.Keys) { data.Add(name, 1); data.Add(name, 2); }
            return data;
        }
    }

    [Theory, MemberData(nameof(Names))]
    public void Bad_input_throws_a_named_error_and_writes_nothing(string name, int degree)
    {
        s_degree.Value = degree;
        Rows[name].Check(Sentinel);
    }
}
