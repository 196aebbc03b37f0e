namespace Kernels.Tests.Reliability;

/// <summary>
/// Extreme dimensions, strides and pads (up to int.MaxValue) through every public kernel with geometry, in a child
/// process (a crash fails the test instead of ending the run): each call either gives the oracle's result or throws
/// an <see cref="ArgumentException"/> before writing anything, never a crash or a wrong result.
/// </summary>
public class ExtremeGeometryTests
{
    [Fact]
    public void Extreme_strides_pads_and_dims_give_a_correct_result_or_an_argument_exception()
    {
        ChildProcess.Result r = ChildProcess.Run(["extreme-geometry"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        string summary = r.Output.Split('\n').Last(l => l.StartsWith("summary", StringComparison.Ordinal));
        int[] counts = summary.Split(' ').Skip(1).Select(int.Parse).ToArray(); // ran, rejected, too large to run, failed
        Assert.True(counts[0] >= 200 && counts[1] >= 200 && counts[3] == 0, summary);
    }

    [Theory]
    [InlineData(8, 1, 2147380029, 1073793636)]   // a long product that overflowed to 11936
    [InlineData(65536, 65536, 65536, 65536)]      // 2^64: the long product was 0
    [InlineData(int.MaxValue, int.MaxValue, int.MaxValue, int.MaxValue)]
    [InlineData(1, 1, 2, 1073741824)]             // 2^31: one past int.MaxValue
    public void Shapes_of_more_than_int_max_elements_are_refused(int n, int c, int h, int w)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new Shape4(n, c, h, w));
        Assert.Contains("at most 2147483647", ex.Message);
        Assert.Contains(((System.Numerics.BigInteger)n * c * h * w).ToString(), ex.Message);
    }

    [Theory]
    [InlineData(int.MaxValue, 1, 1, 1)]
    [InlineData(1, 1, 46340, 46340)]
    public void Shapes_up_to_int_max_elements_are_accepted(int n, int c, int h, int w) =>
        Assert.Equal((long)n * c * h * w, new Shape4(n, c, h, w).Length);

    [Fact]
    public void Padding_beyond_what_an_int_can_index_is_refused_by_geometry()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            Geometry.Conv2DOutput(new Shape4(1, 1, 3, 3), new Shape4(1, 1, 3, 3), 1, new Conv2DParams(int.MaxValue, int.MaxValue)));
        Assert.Equal("pad", ex.ParamName);
        Assert.Contains("padded input H size 4294967297", ex.Message);
    }
}

/// <summary>The sweep itself, run by <see cref="Program.Main"/> in the child process.</summary>
public static class ExtremeGeometry
{
    private static readonly int[] Steps = [1, 2, 3, 7, 1 << 15, (1 << 29) - 1, 1 << 29, 1 << 30, int.MaxValue - 1, int.MaxValue];
    private static readonly int[] Pads = [0, 1, 2, 1 << 15, 1 << 29, (1 << 30) - 2, 1 << 30, int.MaxValue - 1, int.MaxValue];
    private const int MaxOutput = 1 << 16; // geometries with larger outputs are valid but not run (memory, time)

    private enum Outcome { Ran, Rejected, TooLarge }

    public static int RunAll(TextWriter log)
    {
        int ran = 0, rejected = 0, tooLarge = 0, failed = 0;
        void Case(string name, Func<Outcome> run)
        {
            try
            {
                switch (run())
                {
                    case Outcome.Ran: ran++; break;
                    case Outcome.Rejected: rejected++; break;
                    default: tooLarge++; break;
                }
            }
            catch (Exception e)
            {
                failed++;
                log.WriteLine($"FAILED {name}: {e}");
            }
            log.Flush();
        }

        Shape4[] images = [new(1, 1, 3, 3), new(2, 2, 5, 4), new(1, 3, 1, 1)];
        int[][] filters = [[1, 1], [3, 3], [2, 5], [1, 7]];
        foreach (Shape4 x in images)
        foreach (int[] f in filters)
        foreach (int stride in Steps)
        foreach (int pad in Pads)
        {
            var w = new Shape4(2, x.C, f[0], f[1]);
            var p = new Conv2DParams(stride, pad);
            log.WriteLine($"conv x {x} w {w} stride {stride} pad {pad}");
            Case($"conv x {x} w {w} stride {stride} pad {pad}", () => Conv(x, w, p));
        }

        Shape4 px = new(2, 2, 5, 7);
        foreach (int ph in new[] { 1, 2, 3, 5, 6 })
        foreach (int pw in new[] { 1, 2, 3, 7, 8 })
        foreach (int stride in Steps)
        {
            var p = new Pool2DParams(ph, pw, stride);
            log.WriteLine($"pool x {px} {ph}x{pw} stride {stride}");
            Case($"pool x {px} {ph}x{pw} stride {stride}", () => Pool(px, p));
        }
        log.WriteLine($"summary {ran} {rejected} {tooLarge} {failed}");
        return failed == 0 ? 0 : 1;
    }

    /// <summary>Ran: valid, and every fast result matched the oracle; Rejected: every entry point refused it.</summary>
    private static Outcome Conv(Shape4 xs, Shape4 ws, Conv2DParams p)
    {
        float[] x = TestData.Floats(1, xs.Length), w = TestData.Floats(2, ws.Length), b = TestData.Floats(3, ws.N);
        Shape4 ys;
        try { ys = Geometry.Conv2DOutput(xs, ws, ws.N, p); }
        catch (ArgumentException)
        {
            // Invalid geometry: every entry point must refuse it too, writing nothing, whatever output it is given.
            float[] y = [7f], dx = Enumerable.Repeat(7f, xs.Length).ToArray(), dw = Enumerable.Repeat(7f, ws.Length).ToArray(), db = [7f, 7f];
            var one = new Shape4(1, 1, 1, 1);
            Assert.ThrowsAny<ArgumentException>(() => Conv2D.Forward(new(x, xs), new(w, ws), b, p, new(y, one)));
            Assert.ThrowsAny<ArgumentException>(() => Kernels.Reference.Conv2D.Forward(new(x, xs), new(w, ws), b, p, new NchwSpan<float>(y, one)));
            Assert.ThrowsAny<ArgumentException>(() => Conv2D.Backward(new(y, one), new(x, xs), new(w, ws), p, new(dx, xs), new(dw, ws), db, 2));
            Assert.True(y[0] == 7f && dx.All(v => v == 7f) && dw.All(v => v == 7f) && db.All(v => v == 7f), "an output was written before the throw");
            return Outcome.Rejected;
        }
        if (ys.Length > MaxOutput) return Outcome.TooLarge;
        var k = new ConvCase(xs.N, xs.C, xs.H, xs.W, ws.N, ws.H, ws.W, p.Stride, p.Pad, 4);
        float[] dout = TestData.Floats(5, ys.Length);
        double[] exact = new double[ys.Length], scale = new double[ys.Length];
        Kernels.Reference.Conv2D.Forward(new(FloatAssert.ToDouble(x), xs), new(FloatAssert.ToDouble(w), ws), FloatAssert.ToDouble(b), p, new NchwSpan<double>(exact, ys));
        Kernels.Reference.Conv2D.Forward(new(FloatAssert.Abs(x), xs), new(FloatAssert.Abs(w), ws), FloatAssert.Abs(b), p, new NchwSpan<double>(scale, ys));
        double[] ex = new double[xs.Length], ew = new double[ws.Length], eb = new double[ws.N];
        double[] sx = new double[xs.Length], sw = new double[ws.Length], sb = new double[ws.N];
        Kernels.Reference.Conv2D.Backward(new(FloatAssert.ToDouble(dout), ys), new(FloatAssert.ToDouble(x), xs), new(FloatAssert.ToDouble(w), ws), p,
            new NchwSpan<double>(ex, xs), new NchwSpan<double>(ew, ws), eb);
        Kernels.Reference.Conv2D.Backward(new(FloatAssert.Abs(dout), ys), new(FloatAssert.Abs(x), xs), new(FloatAssert.Abs(w), ws), p,
            new NchwSpan<double>(sx, xs), new NchwSpan<double>(sw, ws), sb);
        foreach (int degree in new[] { 1, 2 })
        {
            float[] y = new float[ys.Length], dx = new float[xs.Length], dw = new float[ws.Length], db = new float[ws.N];
            Conv2D.Forward(new(x, xs), new(w, ws), b, p, new(y, ys), degree);
            Conv2D.Backward(new(dout, ys), new(x, xs), new(w, ws), p, new(dx, xs), new(dw, ws), db, degree);
            FloatAssert.WithinSumBound(y, exact, scale, k.C * k.HH * k.WW + 1, "y");
            FloatAssert.WithinSumBound(dx, ex, sx, k.F * k.HH * k.WW, "dx");
            FloatAssert.WithinSumBound(dw, ew, sw, k.N * ys.H * ys.W, "dw");
            FloatAssert.WithinSumBound(db, eb, sb, k.N * ys.H * ys.W, "db");
        }
        return Outcome.Ran;
    }

    private static Outcome Pool(Shape4 xs, Pool2DParams p)
    {
        float[] x = TestData.Floats(6, xs.Length);
        Shape4 ys;
        try { ys = Geometry.Pool2DOutput(xs, p); }
        catch (ArgumentException)
        {
            float[] y = [7f], dx = Enumerable.Repeat(7f, xs.Length).ToArray();
            var one = new Shape4(1, 1, 1, 1);
            Assert.ThrowsAny<ArgumentException>(() => MaxPool2D.Forward(new(x, xs), p, new(y, one)));
            Assert.ThrowsAny<ArgumentException>(() => AvgPool2D.Forward(new(x, xs), p, new(y, one), 2));
            Assert.ThrowsAny<ArgumentException>(() => MaxPool2D.Backward(new(y, one), new(x, xs), p, new(dx, xs)));
            Assert.ThrowsAny<ArgumentException>(() => AvgPool2D.Backward(new(y, one), xs, p, new(dx, xs), 2));
            Assert.True(y[0] == 7f && dx.All(v => v == 7f), "an output was written before the throw");
            return Outcome.Rejected;
        }
        float[] dout = TestData.Floats(7, ys.Length);
        foreach (int degree in new[] { 1, 2 })
        {
            float[] y = new float[ys.Length], ey = new float[ys.Length], dx = new float[xs.Length], edx = new float[xs.Length];
            MaxPool2D.Forward(new(x, xs), p, new(y, ys), degree);
            Kernels.Reference.MaxPool2D.Forward(new(x, xs), p, new NchwSpan<float>(ey, ys));
            FloatAssert.BitwiseEqual(ey, y, "max pool y");
            MaxPool2D.Backward(new(dout, ys), new(x, xs), p, new(dx, xs), degree);
            Kernels.Reference.MaxPool2D.Backward(new(dout, ys), new(x, xs), p, new NchwSpan<float>(edx, xs));
            FloatAssert.BitwiseEqual(edx, dx, "max pool dx");
            AvgPool2D.Forward(new(x, xs), p, new(y, ys), degree);
            Kernels.Reference.AvgPool2D.Forward(new(x, xs), p, new NchwSpan<float>(ey, ys));
            FloatAssert.BitwiseEqual(ey, y, "avg pool y");
            AvgPool2D.Backward(new(dout, ys), xs, p, new(dx, xs), degree);
            Kernels.Reference.AvgPool2D.Backward(new(dout, ys), xs, p, new NchwSpan<float>(edx, xs));
            FloatAssert.BitwiseEqual(edx, dx, "avg pool dx");
        }
        return Outcome.Ran;
    }
}
