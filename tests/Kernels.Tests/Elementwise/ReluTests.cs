namespace Kernels.Tests.Elementwise;

/// <summary>ReLU is exact: the fast kernel must equal the oracle bit for bit, at every length and alias pattern.</summary>
[Trait("Category", "Kernel")]
public class ReluTests
{
    private const float Sentinel = 31337f;
    private const int GuardLength = 17;

    public static TheoryData<int> Lengths => new(Enumerable.Range(0, 130).Concat([255, 256, 257, 1000, 1023, 1024, 1025]));

    /// <summary>Inputs with NaN, infinities and signed zeros sprinkled in.</summary>
    private static float[] Input(int n, int seed)
    {
        float[] x = TestData.Floats(seed, n, -2, 2);
        float[] specials = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, float.Epsilon, -float.Epsilon];
        for (int i = 0; i < n; i += 7) x[i] = specials[(i / 7) % specials.Length];
        return x;
    }

    /// <summary>A buffer of n elements between two guard zones; returns the buffer and the offset of the span.</summary>
    private static float[] Guarded(int n) => Enumerable.Repeat(Sentinel, n + 2 * GuardLength).ToArray();

    private static void AssertGuardsIntact(float[] buffer, int n)
    {
        for (int i = 0; i < GuardLength; i++)
        {
            Assert.Equal(Sentinel, buffer[i]);
            Assert.Equal(Sentinel, buffer[GuardLength + n + i]);
        }
    }

    [Theory, MemberData(nameof(Lengths))]
    public void Forward_equals_the_oracle_and_stays_in_bounds(int n)
    {
        float[] x = Input(n, n), expected = new float[n], y = Guarded(n);
        Kernels.Reference.Relu.Forward<float>(x, expected);
        Relu.Forward(x, y.AsSpan(GuardLength, n));
        FloatAssert.BitwiseEqual(expected, y.AsSpan(GuardLength, n), "y");
        AssertGuardsIntact(y, n);
    }

    [Theory, MemberData(nameof(Lengths))]
    public void Forward_in_place(int n)
    {
        float[] x = Input(n, n + 1), expected = new float[n];
        Kernels.Reference.Relu.Forward<float>(x, expected);
        Relu.Forward(x, x);
        FloatAssert.BitwiseEqual(expected, x, "x in place");
    }

    [Theory, MemberData(nameof(Lengths))]
    public void Backward_equals_the_oracle_separate_and_in_place(int n)
    {
        float[] x = Input(n, n + 2), dout = TestData.Floats(n + 3, n), expected = new float[n];
        Kernels.Reference.Relu.Backward<float>(dout, x, expected);

        float[] dx = Guarded(n);
        Relu.Backward(dout, x, dx.AsSpan(GuardLength, n));
        FloatAssert.BitwiseEqual(expected, dx.AsSpan(GuardLength, n), "dx");
        AssertGuardsIntact(dx, n);

        float[] overDout = (float[])dout.Clone();
        Relu.Backward(overDout, x, overDout);
        FloatAssert.BitwiseEqual(expected, overDout, "dx over dout");

        float[] overX = (float[])x.Clone();
        Relu.Backward(dout, overX, overX);
        FloatAssert.BitwiseEqual(expected, overX, "dx over x");
    }

    /// <summary>Outputs of 4 MiB and more take the non-temporal path: every alignment of dx, and both ends guarded.</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(15)]
    public void Large_backward_streams_and_equals_the_oracle(int misalignment)
    {
        int n = (1 << 20) + 21;
        float[] x = Input(n, 11), dout = TestData.Floats(12, n), expected = new float[n];
        Kernels.Reference.Relu.Backward<float>(dout, x, expected);
        float[] dx = Guarded(n + misalignment);
        Relu.Backward(dout, x, dx.AsSpan(GuardLength + misalignment, n));
        FloatAssert.BitwiseEqual(expected, dx.AsSpan(GuardLength + misalignment, n), "dx");
        for (int i = 0; i < GuardLength + misalignment; i++) Assert.Equal(Sentinel, dx[i]);
        for (int i = GuardLength + misalignment + n; i < dx.Length; i++) Assert.Equal(Sentinel, dx[i]);
    }

    [Fact]
    public void Rejects_a_shifted_overlap_and_writes_nothing()
    {
        float[] buffer = Enumerable.Range(0, 40).Select(i => (float)i - 20).ToArray();
        float[] before = (float[])buffer.Clone();
        var ex = Assert.Throws<ArgumentException>(() => Relu.Forward(buffer.AsSpan(0, 32), buffer.AsSpan(3, 32)));
        Assert.Contains("y overlaps x shifted by", ex.Message);
        Assert.Equal(before, buffer);
    }
}
