using Kernels.Nn;

namespace Kernels.Tests.Normalization;

/// <summary>
/// Per-channel broadcast, global average pooling and batch norm folding against their oracles; double gradient
/// checks of every new backward (batch norm, broadcast, global pooling, each activation); the layers in Sequential
/// with a safetensors round trip of the running statistics.
/// </summary>
[Trait("Category", "Kernel")]
public class ChannelOpsTests
{
    public static TheoryData<int, int, int, int, bool> Shapes => new()
    {
        { 1, 1, 1, 1, false }, { 1, 3, 5, 7, true }, { 2, 1, 4, 17, false }, { 3, 4, 9, 9, true }, { 2, 5, 16, 16, false }, { 4, 2, 1, 33, true },
    };

    [Theory, MemberData(nameof(Shapes))]
    public void Broadcast_multiply_and_add_match_the_oracle(int n, int c, int h, int w, bool shared)
    {
        var s = new Shape4(n, c, h, w);
        var os = shared ? new Shape4(1, c, 1, 1) : new Shape4(n, c, 1, 1);
        float[] x = TestData.Floats(1, s.Length), k = TestData.Floats(2, os.Length), dout = TestData.Floats(3, s.Length);
        float[] y = new float[s.Length], yr = new float[s.Length];
        ChannelBroadcast.Multiply(new(x, s), new(k, os), new(y, s));
        Kernels.Reference.ChannelBroadcast.Multiply<float>(new(x, s), new(k, os), new(yr, s));
        FloatAssert.BitwiseEqual(yr, y, "multiply"); // one product per element, both ways
        ChannelBroadcast.Add(new(x, s), new(k, os), new(y, s));
        Kernels.Reference.ChannelBroadcast.Add<float>(new(x, s), new(k, os), new(yr, s));
        FloatAssert.BitwiseEqual(yr, y, "add");
        float[] inPlace = (float[])x.Clone();
        ChannelBroadcast.Multiply(new(inPlace, s), new(k, os), new(inPlace, s));
        ChannelBroadcast.Multiply(new(x, s), new(k, os), new(y, s));
        FloatAssert.BitwiseEqual(y, inPlace, "multiply in place");

        float[] dx = new float[s.Length], dk = new float[os.Length], db = new float[os.Length];
        double[] dxd = new double[s.Length], dkd = new double[os.Length], dbd = new double[os.Length];
        ChannelBroadcast.MultiplyBackward(new(dout, s), new(x, s), new(k, os), new(dx, s), new(dk, os));
        ChannelBroadcast.AddBackward(new(dout, s), new(db, os));
        Kernels.Reference.ChannelBroadcast.MultiplyBackward<double>(new(FloatAssert.ToDouble(dout), s), new(FloatAssert.ToDouble(x), s),
            new(FloatAssert.ToDouble(k), os), new(dxd, s), new(dkd, os));
        Kernels.Reference.ChannelBroadcast.AddBackward<double>(new(FloatAssert.ToDouble(dout), s), new(dbd, os));
        int terms = s.PlaneLength * (shared ? n : 1);
        double[] absProducts = new double[os.Length], absDout = new double[os.Length];
        Kernels.Reference.ChannelBroadcast.MultiplyBackward<double>(new(FloatAssert.Abs(dout), s), new(FloatAssert.Abs(x), s),
            new(FloatAssert.Abs(k), os), new(new double[s.Length], s), new(absProducts, os));
        Kernels.Reference.ChannelBroadcast.AddBackward<double>(new(FloatAssert.Abs(dout), s), new(absDout, os));
        FloatAssert.WithinSumBound(dx, dxd, FloatAssert.Abs(dx), 1, "dx");
        FloatAssert.WithinSumBound(dk, dkd, absProducts, terms, "dscale");
        FloatAssert.WithinSumBound(db, dbd, absDout, terms, "dbias");
    }

    [Theory, MemberData(nameof(Shapes))]
    public void Global_average_pool_matches_the_oracle(int n, int c, int h, int w, bool _)
    {
        var s = new Shape4(n, c, h, w);
        var ps = new Shape4(n, c, 1, 1);
        float[] x = TestData.Floats(4, s.Length), y = new float[ps.Length], dout = TestData.Floats(5, ps.Length), dx = new float[s.Length];
        double[] yd = new double[ps.Length], abs = new double[ps.Length], dxd = new double[s.Length];
        GlobalAvgPool2D.Forward(new(x, s), new(y, ps));
        Kernels.Reference.GlobalAvgPool2D.Forward<double>(new(FloatAssert.ToDouble(x), s), new(yd, ps));
        Kernels.Reference.GlobalAvgPool2D.Forward<double>(new(FloatAssert.Abs(x), s), new(abs, ps));
        FloatAssert.WithinSumBound(y, yd, abs, s.PlaneLength, "y");
        GlobalAvgPool2D.Backward(new(dout, ps), new(dx, s));
        Kernels.Reference.GlobalAvgPool2D.Backward<double>(new(FloatAssert.ToDouble(dout), ps), new(dxd, s));
        FloatAssert.WithinSumBound(dx, dxd, FloatAssert.Abs(dx), 1, "dx");
    }

    [Fact]
    public void Folding_batch_norm_into_a_convolution_keeps_the_output()
    {
        var k = new ConvCase(2, 3, 9, 8, 4, 3, 3, 1, 1, 9);
        double[] x = TestData.Doubles(1, k.X.Length), w = TestData.Doubles(2, k.Filter.Length), b = TestData.Doubles(3, k.F);
        double[] gamma = TestData.Doubles(4, k.F, 0.5, 2), beta = TestData.Doubles(5, k.F), mean = TestData.Doubles(6, k.F), variance = TestData.Doubles(7, k.F, 0.1, 3);
        double[] conv = new double[k.Y.Length], bn = new double[k.Y.Length], folded = new double[k.Y.Length], fw = new double[w.Length], fb = new double[k.F];
        Kernels.Reference.Conv2D.Forward<double>(new(x, k.X), new(w, k.Filter), b, k.P, new(conv, k.Y));
        Kernels.Reference.BatchNorm2D.ForwardInference<double>(new(conv, k.Y), gamma, beta, mean, variance, 1e-3, new(bn, k.Y));
        BatchNormFolding.Fold<double>(new(w, k.Filter), b, gamma, beta, mean, variance, 1e-3, new(fw, k.Filter), fb);
        Kernels.Reference.Conv2D.Forward<double>(new(x, k.X), new(fw, k.Filter), fb, k.P, new(folded, k.Y));
        for (int i = 0; i < bn.Length; i++) Assert.True(Math.Abs(folded[i] - bn[i]) <= Tolerance.DoubleReorder * (1 + Math.Abs(bn[i])) * 10, $"y[{i}]");
        // In place and without a bias (b = 0).
        BatchNormFolding.Fold<double>(new(w, k.Filter), [], gamma, beta, mean, variance, 1e-3, new(w, k.Filter), fb);
        FloatAssert.SameClass(fw[0], w[0]);
        Assert.Equal(fw, w);
        Assert.Throws<ArgumentException>("gamma", () => BatchNormFolding.Fold<double>(new(w, k.Filter), b, gamma.AsSpan(1), beta, mean, variance, 1e-3, new(fw, k.Filter), fb));
        Assert.Throws<ArgumentOutOfRangeException>("epsilon", () => BatchNormFolding.Fold<double>(new(w, k.Filter), b, gamma, beta, mean, variance, 0, new(fw, k.Filter), fb));
    }

    [Fact]
    public void Broadcast_and_pooling_reject_bad_shapes()
    {
        var s = new Shape4(2, 3, 4, 4);
        float[] x = new float[s.Length], k = new float[6], y = new float[s.Length];
        Assert.Throws<ArgumentException>("scale", () => ChannelBroadcast.Multiply(new(x, s), new(k.AsSpan(0, 3), new Shape4(3, 1, 1, 1)), new(y, s)));
        Assert.Throws<ArgumentException>("y", () => ChannelBroadcast.Add(new(x, s), new(k, new Shape4(2, 3, 1, 1)), new(y.AsSpan(0, 16), new Shape4(1, 1, 4, 4))));
        Assert.Throws<ArgumentException>("dscale", () => ChannelBroadcast.MultiplyBackward(new(x, s), new(x, s), new(k, new Shape4(2, 3, 1, 1)), new(y, s),
            new(k.AsSpan(0, 3), new Shape4(1, 3, 1, 1))));
        Assert.Throws<ArgumentException>("dbias", () => ChannelBroadcast.AddBackward(new(x, s), new(k.AsSpan(0, 2), new Shape4(1, 2, 1, 1))));
        Assert.Throws<ArgumentException>("y", () => GlobalAvgPool2D.Forward(new(x, s), new(k.AsSpan(0, 3), new Shape4(1, 3, 1, 1))));
        Assert.Throws<ArgumentException>("dout", () => GlobalAvgPool2D.Backward(new(k.AsSpan(0, 3), new Shape4(1, 3, 1, 1)), new(y, s)));
        Assert.All(y, v => Assert.Equal(0f, v));
    }

    [GradCheckProperty]
    public void BatchNorm_backward_matches_numerical_gradient(PoolCase k)
    {
        // At least 4 values per channel, 0.5 apart: a channel of nearly equal values has a huge invStd, and central
        // differences with h = 1e-5 then see its curvature (seen once in 14 cases with two close values).
        var s = new Shape4(k.N, k.C, Math.Max(k.H, 2), Math.Max(k.W, 2));
        double[] x = TestData.Distinct(k.Seed, s.Length).Select(v => 50 * v).ToArray(), gamma = TestData.Doubles(k.Seed + 1, k.C, 0.5, 2), beta = TestData.Doubles(k.Seed + 2, k.C);
        double[] dout = TestData.Doubles(k.Seed + 3, s.Length), y = new double[s.Length], sm = new double[k.C], si = new double[k.C];
        double Loss()
        {
            Kernels.Reference.BatchNorm2D.ForwardTraining<double>(new(x, s), gamma, beta, new BatchNormParams(), new(y, s), new double[k.C], new double[k.C], sm, si);
            return GradAssert.Dot(y, dout);
        }
        Loss();
        double[] dx = new double[x.Length], dg = new double[k.C], db = new double[k.C];
        Kernels.Reference.BatchNorm2D.Backward<double>(new(dout, s), new(x, s), gamma, sm, si, new(dx, s), dg, db);
        GradAssert.Matches(x, Loss, dx, "dx");
        GradAssert.Matches(gamma, Loss, dg, "dgamma");
        GradAssert.Matches(beta, Loss, db, "dbeta");
    }

    [GradCheckProperty]
    public void Broadcast_and_global_pool_backward_match_numerical_gradient(PoolCase k)
    {
        var s = k.X;
        var os = k.Seed % 2 == 0 ? new Shape4(1, k.C, 1, 1) : new Shape4(k.N, k.C, 1, 1);
        double[] x = TestData.Doubles(k.Seed, s.Length), scale = TestData.Doubles(k.Seed + 1, os.Length), dout = TestData.Doubles(k.Seed + 2, s.Length);
        double[] y = new double[s.Length], pooled = new double[k.N * k.C], dpooled = TestData.Doubles(k.Seed + 3, pooled.Length);
        double Loss()
        {
            Kernels.Reference.ChannelBroadcast.Multiply<double>(new(x, s), new(scale, os), new(y, s));
            Kernels.Reference.ChannelBroadcast.Add<double>(new(y, s), new(scale, os), new(y, s));
            Kernels.Reference.GlobalAvgPool2D.Forward<double>(new(y, s), new(pooled, new Shape4(k.N, k.C, 1, 1)));
            return GradAssert.Dot(y, dout) + GradAssert.Dot(pooled, dpooled);
        }
        // L = dout . (x s + s) + dpooled . pool(x s + s): dy = dout + pool'(dpooled); dx = dy s; ds = sum dy x + sum dy.
        double[] dy = new double[s.Length], dx = new double[s.Length], ds = new double[os.Length], dsAdd = new double[os.Length];
        Kernels.Reference.GlobalAvgPool2D.Backward<double>(new(dpooled, new Shape4(k.N, k.C, 1, 1)), new(dy, s));
        for (int i = 0; i < dy.Length; i++) dy[i] += dout[i];
        Kernels.Reference.ChannelBroadcast.MultiplyBackward<double>(new(dy, s), new(x, s), new(scale, os), new(dx, s), new(ds, os));
        Kernels.Reference.ChannelBroadcast.AddBackward<double>(new(dy, s), new(dsAdd, os));
        for (int i = 0; i < ds.Length; i++) ds[i] += dsAdd[i];
        GradAssert.Matches(x, Loss, dx, "dx");
        GradAssert.Matches(scale, Loss, ds, "dscale");
    }

    [GradCheckProperty]
    public void Activation_backwards_match_numerical_gradients(MatCase k)
    {
        Activation[] all = [Activation.Sigmoid, Activation.Tanh, Activation.HardSigmoid, Activation.HardSwish, Activation.Silu, Activation.Gelu(),
            Activation.Gelu(GeluApproximation.Tanh), Activation.LeakyRelu(0.1f), Activation.Elu(0.7f), Activation.Relu6, Activation.Clip(-0.5f, 0.5f)];
        Activation f = all[k.Seed % all.Length];
        int n = k.N * k.D;
        double[] x = TestData.Doubles(k.Seed, n, -4, 4), dout = TestData.Doubles(k.Seed + 1, n), y = new double[n], dx = new double[n];
        // Keep the finite differences off the kinks (0, +-3, the clip bounds).
        foreach (double kink in new[] { 0, 3, -3, 6, 0.5, -0.5 })
            for (int i = 0; i < n; i++)
                if (Math.Abs(x[i] - kink) < 1e-3) x[i] += 2e-3;
        double Loss()
        {
            Kernels.Reference.Activations.Forward<double>(f, x, y);
            return GradAssert.Dot(y, dout);
        }
        Kernels.Reference.Activations.Backward<double>(f, dout, x, dx);
        GradAssert.Matches(x, Loss, dx, $"dx of {f}");
    }

    [Theory]
    [InlineData(Reliability.GuardPage.Placement.AtEnd)]
    [InlineData(Reliability.GuardPage.Placement.AtStart)]
    public void Batch_norm_broadcast_and_pooling_stay_inside_their_spans(Reliability.GuardPage.Placement at)
    {
        foreach (Shape4 s in new[] { new Shape4(1, 1, 1, 2), new Shape4(2, 3, 5, 7), new Shape4(3, 2, 33, 17) })
        {
            Reliability.GuardPage G(int n, int seed) => Reliability.GuardPage.From(TestData.Floats(seed, n, 0.5f, 2f), at);
            var cs = new Shape4(1, s.C, 1, 1);
            using Reliability.GuardPage x = G(s.Length, 1), y = G(s.Length, 2), dx = G(s.Length, 3), g = G(s.C, 4), b = G(s.C, 5), rm = G(s.C, 6), rv = G(s.C, 7);
            using Reliability.GuardPage sm = G(s.C, 8), si = G(s.C, 9), dg = G(s.C, 10), db = G(s.C, 11), p = G(s.N * s.C, 12);
            foreach (int t in new[] { 1, 2 })
            {
                BatchNorm2D.ForwardTraining(new(x.Span, s), g.Span, b.Span, new BatchNormParams(), new(y.Span, s), rm.Span, rv.Span, sm.Span, si.Span, t);
                BatchNorm2D.Backward(new(y.Span, s), new(x.Span, s), g.Span, sm.Span, si.Span, new(dx.Span, s), dg.Span, db.Span, t);
                BatchNorm2D.ForwardInference(new(x.Span, s), g.Span, b.Span, rm.Span, rv.Span, 1e-5, new(y.Span, s), t);
                ChannelBroadcast.Multiply(new(x.Span, s), new(g.Span, cs), new(y.Span, s), t);
                ChannelBroadcast.MultiplyBackward(new(y.Span, s), new(x.Span, s), new(g.Span, cs), new(dx.Span, s), new(db.Span, cs), t);
                ChannelBroadcast.AddBackward(new(y.Span, s), new(db.Span, cs), t);
                GlobalAvgPool2D.Forward(new(x.Span, s), new(p.Span, new Shape4(s.N, s.C, 1, 1)), t);
                GlobalAvgPool2D.Backward(new(p.Span, new Shape4(s.N, s.C, 1, 1)), new(dx.Span, s), t);
            }
            Assert.True(float.IsFinite(dx.Span[0]) && float.IsFinite(db.Span[0]));
        }
    }

    [Fact]
    public void Layers_train_switch_to_eval_and_round_trip_through_safetensors()
    {
        var kernels = new FastKernels(2);
        Sequential<float> Build() => new(kernels, new BatchNorm2DLayer<float>(kernels, 3, "bn1"), new ActivationLayer<float>(kernels, Activation.HardSwish),
            new GlobalAvgPoolLayer<float>(kernels), new FlattenLayer<float>());
        var net = Build();
        var x = NchwTensor<float>.Create(new Shape4(4, 3, 5, 6));
        TestData.Floats(1, x.Span.Length, 2, 6).CopyTo(x.Span);
        for (int step = 0; step < 3; step++)
        {
            NchwTensor<float> y = net.Forward(x);
            var dout = NchwTensor<float>.Create(y.Shape);
            dout.Span.Fill(0.25f);
            net.Backward(dout);
        }
        Assert.NotEqual(0f, net.Buffers[0].Value[0]); // the running mean moved toward the batch mean (about 4)
        net.Training = false;
        float[] evalOut = net.Forward(x).Span.ToArray();

        string path = Path.Combine(Path.GetTempPath(), $"bn-{Guid.NewGuid():N}.safetensors");
        try
        {
            Safetensors.Save(path, [.. net.Parameters, .. net.Buffers]);
            var copy = Build();
            copy.Training = false;
            Safetensors.Load(path, [.. copy.Parameters, .. copy.Buffers]);
            FloatAssert.BitwiseEqual(evalOut, copy.Forward(x).Span, "eval output after loading");
            Assert.Contains("bn1.running_var", Safetensors.Describe(File.ReadAllBytes(path), path).Tensors.Keys);
        }
        finally { File.Delete(path); }
        Assert.Throws<InvalidOperationException>(() => net.Backward(net.Forward(x)));
    }
}
