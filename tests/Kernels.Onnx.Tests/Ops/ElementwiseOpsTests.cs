using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Kernels.Onnx.Export;

namespace Kernels.Onnx.Tests.Ops;

/// <summary>
/// The element-wise family against naive oracles: numpy broadcasting over generated pairs of shapes (ranks 0-5, every
/// operand axis either the output's size or 1, leading axes dropped), exact IEEE ops bitwise, the functions within
/// <see cref="Tolerance.FunctionUlps"/> of a double oracle, shapes (int64) computed while planning.
/// </summary>
public class ElementwiseOpsTests
{
    private static readonly Dictionary<string, Func<float, float, float>> Exact = new()
    {
        ["Add"] = (a, b) => a + b, ["Sub"] = (a, b) => a - b, ["Mul"] = (a, b) => a * b, ["Div"] = (a, b) => a / b,
        ["Max"] = (a, b) => float.IsNaN(a) || float.IsNaN(b) ? float.NaN : Math.Max(a, b),
        ["Min"] = (a, b) => float.IsNaN(a) || float.IsNaN(b) ? float.NaN : Math.Min(a, b),
    };

    /// <summary>Two operand shapes made from one full shape (each axis kept or 1, leading axes dropped) and their numpy broadcast.</summary>
    private static Gen<(int[] Y, int[] A, int[] B)> Shapes =>
        from rank in Gen.Choose(0, 5)
        from full in Gen.ArrayOf(Gen.Choose(1, 4), rank)
        from maskA in Gen.ArrayOf(Gen.Elements(true, true, false), rank)
        from maskB in Gen.ArrayOf(Gen.Elements(true, false), rank)
        from dropA in Gen.Choose(0, rank)
        from dropB in Gen.Choose(0, rank)
        let a = Operand(full, maskA, dropA)
        let b = Operand(full, maskB, dropB)
        select (Broadcast(a, b), a, b);

    private static int[] Operand(int[] full, bool[] keep, int drop) => [.. full.Select((d, i) => keep[i] ? d : 1).Skip(drop)];

    /// <summary>numpy's rule, written out: align at the end, take the larger of each pair (one of them is 1 or both equal).</summary>
    private static int[] Broadcast(int[] a, int[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        return [.. Enumerable.Range(0, rank).Select(i => Math.Max(i - rank + a.Length >= 0 ? a[i - rank + a.Length] : 1, i - rank + b.Length >= 0 ? b[i - rank + b.Length] : 1))];
    }

    private static float[] Values(int length, int seed, bool positive = false)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, length).Select(_ => positive ? (float)random.NextDouble() * 4 + 0.01f : (float)(random.NextDouble() * 8 - 4))];
    }

    private static long Length(int[] d) => d.Aggregate(1L, (p, v) => p * v);

    /// <summary>The element of an operand that output index <paramref name="i"/> reads (numpy: aligned at the end, 1 stretched).</summary>
    private static int Source(int i, int[] y, int[] a)
    {
        int at = 0, stride = 1;
        for (int axis = y.Length - 1, k = a.Length - 1; axis >= 0; axis--, k--)
        {
            int index = i % y[axis];
            i /= y[axis];
            if (k < 0) continue;
            if (a[k] != 1) at += index * stride;
            stride *= a[k];
        }
        return at;
    }

    private static byte[] Binary(string op, int[] a, int[] b, int[] y) => new GraphWriter()
        .Input("a", [.. a.Select(d => (long)d)]).Input("b", [.. b.Select(d => (long)d)]).Node(op, ["a", "b"], "y").Output("y", [.. y.Select(d => (long)d)]).ToBytes();

    [Property(MaxTest = 300)]
    public Property Exact_binary_ops_broadcast_as_numpy_bitwise() =>
        Prop.ForAll((from s in Shapes from op in Gen.Elements(Exact.Keys.ToArray()) from seed in Gen.Choose(0, 9999) select (s, op, seed)).ToArbitrary(), c =>
        {
            (int[] y, int[] a, int[] b) = c.s;
            OnnxModel model = OnnxModel.Load(Binary(c.op, a, b, y), "binary.onnx");
            Assert.Equal(y, model.OutputMetadata["y"].Dimensions);
            float[] va = Values((int)Length(a), c.seed), vb = Values((int)Length(b), c.seed + 1), vy = new float[Length(y)];
            model.Run(["a", "b"], [va, vb], ["y"], [vy]);
            for (int i = 0; i < vy.Length; i++)
            {
                float expected = Exact[c.op](va[Source(i, y, a)], vb[Source(i, y, b)]);
                Assert.True(expected.Equals(vy[i]), $"{c.op} {Tolerance.Format(a)} {Tolerance.Format(b)}: y[{i}] = {vy[i]}, expected {expected}");
            }
        });

    [Property(MaxTest = 100)]
    public Property Pow_broadcasts_and_is_within_a_few_ulps() =>
        Prop.ForAll((from s in Shapes from seed in Gen.Choose(0, 9999) select (s, seed)).ToArbitrary(), c =>
        {
            (int[] y, int[] a, int[] b) = c.s;
            OnnxModel model = OnnxModel.Load(Binary("Pow", a, b, y), "pow.onnx");
            float[] va = Values((int)Length(a), c.seed, positive: true), vb = Values((int)Length(b), c.seed + 1), vy = new float[Length(y)];
            model.Run(["a", "b"], [va, vb], ["y"], [vy]);
            for (int i = 0; i < vy.Length; i++)
                Tolerance.WithinUlps(Math.Pow(va[Source(i, y, a)], vb[Source(i, y, b)]), vy[i], $"Pow y[{i}]");
        });

    public static TheoryData<string, string> Functions => new()
    {
        { "Sigmoid", "" }, { "Tanh", "" }, { "Exp", "" }, { "Log", "" }, { "Neg", "" }, { "Abs", "" }, { "Sqrt", "" }, { "Reciprocal", "" },
        { "Erf", "" }, { "Relu", "" }, { "HardSigmoid", "alpha=0.3,beta=0.4" }, { "HardSwish", "" }, { "LeakyRelu", "alpha=0.2" },
        { "Elu", "alpha=1.5" }, { "Clip", "min=-1.5,max=2.25" },
    };

    private static double Oracle(string op, double x, Dictionary<string, float> p) => op switch
    {
        "Sigmoid" => 1 / (1 + Math.Exp(-x)), "Tanh" => Math.Tanh(x), "Exp" => Math.Exp(x), "Log" => Math.Log(x), "Neg" => -x,
        "Abs" => Math.Abs(x), "Sqrt" => Math.Sqrt(x), "Reciprocal" => 1 / x, "Erf" => ErfSeries(x), "Relu" => Math.Max(x, 0),
        "HardSigmoid" => Math.Clamp(p["alpha"] * x + p["beta"], 0, 1), "HardSwish" => x * Math.Clamp(x / 6 + 0.5, 0, 1),
        "LeakyRelu" => x >= 0 ? x : p["alpha"] * x, "Elu" => x >= 0 ? x : p["alpha"] * (Math.Exp(x) - 1),
        "Clip" => Math.Min(Math.Max(x, p["min"]), p["max"]), _ => throw new ArgumentException(op),
    };

    /// <summary>erf by its Maclaurin series (terms until they vanish; |x| &lt; 5 here), an oracle independent of the op's formula.</summary>
    private static double ErfSeries(double x)
    {
        if (Math.Abs(x) > 5) return Math.Sign(x);
        double sum = 0, term = x;
        for (int n = 0; n < 200; n++)
        {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    [Theory, MemberData(nameof(Functions))]
    public void Functions_match_the_double_oracle(string op, string attributes)
    {
        Dictionary<string, float> p = attributes.Length == 0 ? [] : attributes.Split(',').Select(kv => kv.Split('=')).ToDictionary(kv => kv[0], kv => float.Parse(kv[1]));
        bool positive = op is "Log" or "Sqrt";
        // A dense sweep over [-8, 8] (or (0, 16]), the kinks (0, +-3) and their neighbours, and lengths off every vector width.
        float[] x = [.. Enumerable.Range(0, 4001).Select(i => positive ? (i + 1) * 0.004f : -8 + i * 0.004f),
            .. new[] { 0f, -0f, 3f, -3f, 1e-7f, -1e-7f, 2.999f, 3.001f }.Where(v => !positive || v > 0)];
        byte[] bytes = op == "Clip"
            ? new GraphWriter().Input("x", x.Length).Initializer("lo", [], [p["min"]]).Initializer("hi", [], [p["max"]]).Node("Clip", ["x", "lo", "hi"], "y").Output("y", x.Length).ToBytes()
            : new GraphWriter().Input("x", x.Length).Node(op, ["x"], "y", [.. p.Select(kv => new NodeAttribute(kv.Key, Float: kv.Value))]).Output("y", x.Length).ToBytes(opset: 14);
        OnnxModel model = OnnxModel.Load(bytes, "function.onnx");
        float[] y = new float[x.Length];
        model.Run(x, y);
        for (int i = 0; i < x.Length; i++) Tolerance.WithinUlps(Oracle(op, x[i], p), y[i], $"{op}({x[i]:R})");
    }

    [Theory]
    [InlineData("Sigmoid")]
    [InlineData("Tanh")]
    [InlineData("Erf")]
    [InlineData("HardSwish")]
    [InlineData("Relu")]
    public void Special_values_follow_the_function(string op)
    {
        float[] x = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, 100f, -100f];
        OnnxModel model = OnnxModel.Load(new GraphWriter().Input("x", x.Length).Node(op, ["x"], "y").Output("y", x.Length).ToBytes(opset: 14), "special.onnx");
        float[] y = new float[x.Length];
        model.Run(x, y);
        Assert.True(float.IsNaN(y[0]), $"{op}(NaN) = {y[0]}");
        // Limits at +-inf and +-100 (HardSwish is 0 for x <= -3, so its limit at -inf is 0, not -inf * 0), the value at -0.
        (float inf, float negInf, float zero) = op switch
        {
            "Sigmoid" => (1f, 0f, 0.5f), "Tanh" or "Erf" => (1f, -1f, 0f), "HardSwish" => (float.PositiveInfinity, 0f, 0f), _ => (float.PositiveInfinity, 0f, 0f),
        };
        Assert.Equal(inf, y[1]);
        Assert.Equal(negInf, y[2]);
        Assert.Equal(zero, Math.Abs(y[3]));
        Tolerance.WithinUlps(Oracle(op, 100, []), y[4], $"{op}(100)");
        Tolerance.WithinUlps(Oracle(op, -100, []), y[5], $"{op}(-100)"); // sigmoid(-100) is 3.7e-44, a subnormal, not 0
    }

    [Fact]
    public void Int64_shape_arithmetic_is_computed_while_planning()
    {
        // y = Reshape(x, (s * 2) / 4 + 0): the shape (4, 6) computed from s = (8, 12) by Mul, Div and Add on int64.
        byte[] bytes = new GraphWriter().Input("x", -1, 24).Initializer("s", [2], [8L, 12]).Initializer("two", [], [2L]).Initializer("four", [1], [4L])
            .Initializer("zero", [2], [0L, 0]).Node("Mul", ["s", "two"], "s2").Node("Div", ["s2", "four"], "s3").Node("Add", ["s3", "zero"], "s4")
            .Node("Reshape", ["x", "s4"], "y").Output("y", 4, 6).ToBytes();
        OnnxModel model = OnnxModel.Load(bytes, "shapes.onnx");
        Assert.Equal([4, 6], model.OutputMetadata["y"].Dimensions);
        byte[] zero = new GraphWriter().Input("x", -1, 24).Initializer("s", [2], [4L, 12]).Initializer("z", [1], [0L])
            .Node("Div", ["s", "z"], "s2").Node("Reshape", ["x", "s2"], "y").Output("y", 2, 6).ToBytes();
        Assert.Contains("Div node", Assert.Throws<InvalidDataException>(() => OnnxModel.Load(zero, "zero.onnx")).Message);
    }
}

/// <summary>MatMul as numpy's matmul: batch dims broadcast, 1-D operands promoted and their 1 dropped.</summary>
public class MatMulOpTests
{
    [Property(MaxTest = 150)]
    public Property MatMul_broadcasts_batches_and_promotes_vectors_as_numpy() =>
        Prop.ForAll(
            (from m in Gen.Choose(1, 5)
             from k in Gen.Choose(1, 6)
             from n in Gen.Choose(1, 5)
             from batchRank in Gen.Choose(0, 3)
             from batch in Gen.ArrayOf(Gen.Choose(1, 3), batchRank)
             from keepA in Gen.ArrayOf(Gen.Elements(true, false), batchRank)
             from keepB in Gen.ArrayOf(Gen.Elements(true, false), batchRank)
             from vector in Gen.Elements("none", "none", "a", "b")
             select (m, k, n, batch, keepA, keepB, vector)).ToArbitrary(),
            c =>
            {
                int[] batchA = [.. c.batch.Select((d, i) => c.keepA[i] ? d : 1)], batchB = [.. c.batch.Select((d, i) => c.keepB[i] ? d : 1)];
                int[] da = c.vector == "a" ? [c.k] : [.. batchA, c.m, c.k], db = c.vector == "b" ? [c.k] : [.. batchB, c.k, c.n];
                int[] batch = [.. Enumerable.Range(0, c.batch.Length).Select(i => Math.Max(c.vector == "a" ? 1 : batchA[i], c.vector == "b" ? 1 : batchB[i]))];
                if (c.vector == "a") batch = [.. batchB];
                if (c.vector == "b") batch = [.. batchA];
                int rows = c.vector == "a" ? 1 : c.m, cols = c.vector == "b" ? 1 : c.n;
                int[] dy = [.. batch, .. c.vector == "a" ? Array.Empty<int>() : [c.m], .. c.vector == "b" ? Array.Empty<int>() : [c.n]];
                byte[] bytes = new GraphWriter().Input("a", [.. da.Select(d => (long)d)]).Input("b", [.. db.Select(d => (long)d)])
                    .Node("MatMul", ["a", "b"], "y").Output("y", [.. dy.Select(d => (long)d)]).ToBytes();
                OnnxModel model = OnnxModel.Load(bytes, "matmul.onnx");
                Assert.Equal(dy, model.OutputMetadata["y"].Dimensions);
                var random = new Random(c.m * 7 + c.k);
                float[] a = [.. Enumerable.Range(0, da.Aggregate(1, (p, d) => p * d)).Select(_ => (float)random.NextDouble() - 0.5f)];
                float[] b = [.. Enumerable.Range(0, db.Aggregate(1, (p, d) => p * d)).Select(_ => (float)random.NextDouble() - 0.5f)];
                float[] y = new float[dy.Aggregate(1, (p, d) => p * d)];
                model.Run(["a", "b"], [a, b], ["y"], [y]);
                int count = batch.Aggregate(1, (p, d) => p * d);
                for (int t = 0; t < count; t++)
                {
                    // The batch index t read from each operand (a 1 in its batch dims repeats the same matrix).
                    int ta = 0, tb = 0;
                    for (int i = 0, rest = t, span = count; i < batch.Length; i++)
                    {
                        span /= batch[i];
                        int index = rest / span;
                        rest %= span;
                        if (c.vector != "a") ta = ta * batchA[i] + (batchA[i] == 1 ? 0 : index);
                        if (c.vector != "b") tb = tb * batchB[i] + (batchB[i] == 1 ? 0 : index);
                    }
                    for (int i = 0; i < rows; i++)
                        for (int j = 0; j < cols; j++)
                        {
                            double sum = 0, abs = 0;
                            for (int q = 0; q < c.k; q++)
                            {
                                double p = (double)a[(ta * rows + i) * c.k + q] * b[(tb * c.k + q) * cols + j];
                                (sum, abs) = (sum + p, abs + Math.Abs(p));
                            }
                            float actual = y[(t * rows + i) * cols + j];
                            Assert.True(Math.Abs(actual - sum) <= Tolerance.SumBound(c.k, abs), $"y[{t},{i},{j}] = {actual}, expected {sum}");
                        }
                }
            });
}
