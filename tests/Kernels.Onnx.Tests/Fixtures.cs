using System.Runtime.InteropServices;

namespace Kernels.Onnx.Tests;

/// <summary>One model exported by PyTorch (Fixtures/make_fixtures.py) with torch's output for a fixed input.</summary>
public sealed record Fixture(string Name, int Opset, int[] InputDims, int[] OutputDims)
{
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "Fixtures");

    public static IReadOnlyList<Fixture> All { get; } = File.ReadAllLines(Path.Combine(Folder, "fixtures.txt"))
        .Where(l => l.Length > 0 && l[0] != '#')
        .Select(l => l.Split(' '))
        .Select(p => new Fixture(p[0], int.Parse(p[1]), Dims(p[2]), Dims(p[3])))
        .ToArray();

    public static TheoryData<string> Names => [.. All.Select(f => f.Name)];

    public static Fixture Named(string name) => All.Single(f => f.Name == name);

    public string ModelPath => Path.Combine(Folder, Name + ".onnx");
    public byte[] ModelBytes => File.ReadAllBytes(ModelPath);
    public float[] Input => Floats(Name + ".in.bin");
    public float[] TorchOutput => Floats(Name + ".out.bin");
    public int Batch => InputDims[0];

    private static int[] Dims(string s) => s.Split(',').Select(int.Parse).ToArray();

    private static float[] Floats(string file) => MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(Folder, file))).ToArray();

    public override string ToString() => Name;
}

/// <summary>
/// The one tolerance of these tests, against torch's float32 outputs: |ours - torch| &lt;= 1e-4 * max|torch| +
/// 1e-6. Both sides round in float32 but sum in different orders (our GEMM's KC slices, torch's oneDNN blocks) over
/// reductions of up to K = 2304 (vggblock's 32 x 8 x 8 flattened into a 3x3 x 16 ... and Linear) and up to 8 layers;
/// Winograd, which Auto may pick for the 3x3 layers, adds a relative error of up to 1.7e-5 of max|y| per layer
/// (docs/semantics.md). 1e-4 of the output's range leaves room for that with about a factor two of margin.
/// </summary>
public static class Tolerance
{
    public const double Relative = 1e-4, Absolute = 1e-6;

    /// <summary>Unit roundoff of float: 2^-24.</summary>
    public const double FloatUnitRoundoff = 1.0 / (1 << 24);

    /// <summary>
    /// |ours - exact| for one float sum of <paramref name="terms"/> products (a convolution output) against the same sum in
    /// double: the classic bound for any summation order, fused or not, <c>terms * u * sum |a_i b_i|</c>, plus two
    /// roundings for the bias and the store. A wrong or missing tap moves the result by about absSum / terms, far above it.
    /// </summary>
    public static double SumBound(int terms, double absSum) => (terms + 2) * FloatUnitRoundoff * absSum + 1e-35;

    /// <summary>
    /// The element-wise functions against a double oracle, in ulps of the float result: the library's sigmoid, tanh,
    /// ELU and hard functions, which the ONNX ops run on, are stated in docs/semantics.md at worst 3.3, 4.2, 2.4 and
    /// under 2 ulps (1.7M points on four widths); TensorPrimitives' exp and log are within a few; our erf is within
    /// 1.5e-7 absolute (Abramowitz and Stegun 7.1.26), about 2.5 ulps near |erf| = 1. 5 covers the largest stated one.
    /// Exact IEEE operations (add, subtract, multiply, divide, max, min, clip) are checked bitwise instead.
    /// </summary>
    public const double FunctionUlps = 5;

    /// <summary>Asserts |actual - expected| &lt;= FunctionUlps ulps of the float nearest expected (NaN only where expected is NaN).</summary>
    public static void WithinUlps(double expected, float actual, string what)
    {
        if (double.IsNaN(expected) || double.IsInfinity(expected))
        {
            Assert.True(expected.Equals((double)actual), $"{what}: {actual}, expected {expected}");
            return;
        }
        float nearest = (float)expected;
        double ulp = Math.Max(Math.Abs(MathF.BitIncrement(Math.Abs(nearest)) - Math.Abs(nearest)), float.Epsilon);
        Assert.True(Math.Abs(actual - expected) <= FunctionUlps * ulp, $"{what}: {actual:R}, expected {expected:R} ({Math.Abs(actual - expected) / ulp:F1} ulps)");
    }

    public static string Format(int[] dims) => "(" + string.Join(",", dims) + ")";

    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = 0;
        foreach (float e in expected) scale = Math.Max(scale, Math.Abs(e));
        double bound = Relative * scale + Absolute, worst = 0;
        int at = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = Math.Abs((double)expected[i] - actual[i]);
            if (!(d <= worst)) (worst, at) = (d, i);
        }
        Assert.True(worst <= bound, $"{what}: |difference| {worst:G3} at {at} (expected {(at >= 0 ? expected[at] : 0)}, got {(at >= 0 ? actual[at] : 0)}) is above {bound:G3}");
    }
}
