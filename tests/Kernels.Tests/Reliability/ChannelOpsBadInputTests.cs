namespace Kernels.Tests.Reliability;

/// <summary>
/// The bad-input table of the activations, batch norm, broadcast, global pooling and folding: each row throws the
/// documented exception naming the parameter with the expected and actual value, and leaves every output (sentinel)
/// untouched.
/// </summary>
public class ChannelOpsBadInputTests
{
    private const float Sentinel = -4242.5f;
    private static readonly Shape4 S = new(2, 3, 4, 5);
    private static readonly float[] X = new float[S.Length], C3 = new float[3];

    public static readonly Dictionary<string, BadInputRow<float>> Rows = new()
    {
        ["sigmoid: length"] = BadInputRow<float>.Arg(["y", "length 7", "needs 8"], [7], o => Sigmoid.Forward(new float[8], o[0])),
        ["tanh backward: dx length"] = BadInputRow<float>.Arg(["dx", "length 9", "needs 8"], [9], o => Tanh.Backward(new float[8], new float[8], o[0])),
        ["gelu: shifted overlap"] = BadInputRow<float>.Arg(["y", "overlaps x shifted by"], [40], o => Gelu.Forward(o[0].AsSpan(0, 32), o[0].AsSpan(4, 32))),
        ["gelu: unknown approximation"] = BadInputRow<float>.Range(["approximation", "None or Tanh", "7"], [8], o => Gelu.Forward(new float[8], o[0], (GeluApproximation)7)),
        ["silu: degree 0"] = BadInputRow<float>.Range(["maxDegreeOfParallelism", "0"], [8], o => Silu.Forward(new float[8], o[0], 0)),
        ["hard swish backward: dout length"] = BadInputRow<float>.Arg(["dout", "length 7", "needs 8"], [8], o => HardSwish.Backward(new float[7], new float[8], o[0])),
        ["hard sigmoid: length"] = BadInputRow<float>.Arg(["y", "length 3"], [3], o => HardSigmoid.Forward(new float[8], o[0])),
        ["leaky relu: NaN slope"] = BadInputRow<float>.Range(["slope", "finite", "NaN"], [8], o => LeakyRelu.Forward(new float[8], o[0], float.NaN)),
        ["elu: infinite alpha"] = BadInputRow<float>.Range(["alpha", "finite"], [8], o => Elu.Backward(new float[8], new float[8], o[0], float.PositiveInfinity)),
        ["clip: min above max"] = BadInputRow<float>.Range(["max", ">= min (2)", "1"], [8], o => Clip.Forward(new float[8], o[0], 2, 1)),
        ["clip: NaN bound"] = BadInputRow<float>.Range(["min", "NaN"], [8], o => Clip.Backward(new float[8], new float[8], o[0], float.NaN, 1)),
        ["batch norm: gamma length"] = BadInputRow<float>.Arg(["gamma", "length 2", "needs 3"], [S.Length, 3, 3, 3, 3],
            o => BatchNorm2D.ForwardTraining(new(X, S), new float[2], C3, new BatchNormParams(), new(o[0], S), o[1], o[2], o[3], o[4])),
        ["batch norm: momentum"] = BadInputRow<float>.Range(["p", "Momentum", "[0, 1]", "-0.5"], [S.Length, 3, 3, 3, 3],
            o => BatchNorm2D.ForwardTraining(new(X, S), C3, C3, new BatchNormParams(1e-5, -0.5), new(o[0], S), o[1], o[2], o[3], o[4])),
        ["batch norm: one value per channel"] = BadInputRow<float>.Arg(["x", "at least 2 values per channel"], [3, 3, 3, 3, 3],
            o => BatchNorm2D.ForwardTraining(new(new float[3], 1, 3, 1, 1), C3, C3, new BatchNormParams(), new(o[0], 1, 3, 1, 1), o[1], o[2], o[3], o[4])),
        ["batch norm inference: epsilon"] = BadInputRow<float>.Range(["epsilon", "> 0", "-1"], [S.Length],
            o => BatchNorm2D.ForwardInference(new(X, S), C3, C3, C3, C3, -1, new(o[0], S))),
        ["batch norm backward: dbeta length"] = BadInputRow<float>.Arg(["dbeta", "length 4", "needs 3"], [S.Length, 3, 4],
            o => BatchNorm2D.Backward(new(X, S), new(X, S), C3, C3, C3, new(o[0], S), o[1], o[2])),
        ["broadcast: operand shape"] = BadInputRow<float>.Arg(["scale", "(2, 1, 1, 3)", "(2, 3, 1, 1) or (1, 3, 1, 1)"], [S.Length],
            o => ChannelBroadcast.Multiply(new(X, S), new(new float[6], 2, 1, 1, 3), new(o[0], S))),
        ["broadcast backward: dscale shape"] = BadInputRow<float>.Arg(["dscale", "(2, 3, 1, 1)", "(1, 3, 1, 1)"], [S.Length, 6],
            o => ChannelBroadcast.MultiplyBackward(new(X, S), new(X, S), new(C3, 1, 3, 1, 1), new(o[0], S), new(o[1], 2, 3, 1, 1))),
        ["broadcast add backward: dbias shape"] = BadInputRow<float>.Arg(["dbias", "(1, 2, 1, 1)"], [2], o => ChannelBroadcast.AddBackward(new(X, S), new(o[0], 1, 2, 1, 1))),
        ["global pool: output shape"] = BadInputRow<float>.Arg(["y", "(2, 3, 1, 2)", "(2, 3, 1, 1)"], [12], o => GlobalAvgPool2D.Forward(new(X, S), new(o[0], 2, 3, 1, 2))),
        ["global pool backward: dout shape"] = BadInputRow<float>.Arg(["dout", "(1, 3, 1, 1)", "(2, 3, 1, 1)"], [S.Length],
            o => GlobalAvgPool2D.Backward(new(C3, 1, 3, 1, 1), new(o[0], S))),
        ["folding: bias length"] = BadInputRow<float>.Arg(["b", "length 2", "needs 3"], [36, 3],
            o => BatchNormFolding.Fold<float>(new(new float[36], 3, 3, 2, 2), new float[2], C3, C3, C3, C3, 1e-5, new(o[0], 3, 3, 2, 2), o[1])),
    };

    public static TheoryData<string> Names => new(Rows.Keys);

    [Theory, MemberData(nameof(Names))]
    public void Bad_input_throws_a_named_error_and_writes_nothing(string name) => Rows[name].Check(Sentinel);
}
