namespace Kernels.Tests.Reliability;

/// <summary>
/// The activations, batch norm, broadcast and global pooling allocate nothing in steady state at degree 1 and 2
/// (as <see cref="AllocationTests"/>, in its collection so that nothing else runs meanwhile), and give the same
/// bits at 1, 2 and 4 threads.
/// </summary>
[Collection(nameof(AllocationCollection))]
[Trait("Category", "Kernel")]
public class ChannelOpsAllocationTests
{
    private static readonly Shape4 S = new(4, 8, 64, 64);

    private static Action<int> Calls(out Func<float[]> result)
    {
        float[] x = TestData.Floats(1, S.Length), y = new float[S.Length], dx = new float[S.Length], dout = TestData.Floats(2, S.Length);
        float[] g = TestData.Floats(3, 8), b = TestData.Floats(4, 8), rm = new float[8], rv = new float[8], sm = new float[8], si = new float[8];
        float[] dg = new float[8], db = new float[8], gate = TestData.Floats(5, 32), dgate = new float[32], pooled = new float[32];
        Activation[] all = [Activation.Sigmoid, Activation.Tanh, Activation.HardSigmoid, Activation.HardSwish, Activation.Silu, Activation.Gelu(),
            Activation.Gelu(GeluApproximation.Tanh), Activation.LeakyRelu(), Activation.Elu(), Activation.Relu6];
        var gs = new Shape4(4, 8, 1, 1);
        result = () => [.. y, .. dx, .. rm, .. rv, .. sm, .. si, .. dg, .. db, .. dgate, .. pooled];
        return d =>
        {
            foreach (Activation f in all)
            {
                Activations.Forward(f, x, y, d);
                Activations.Backward(f, dout, x, dx, d);
            }
            BatchNorm2D.ForwardTraining(new(x, S), g, b, new BatchNormParams(), new(y, S), rm, rv, sm, si, d);
            BatchNorm2D.Backward(new(dout, S), new(x, S), g, sm, si, new(dx, S), dg, db, d);
            BatchNorm2D.ForwardInference(new(x, S), g, b, rm, rv, 1e-5, new(y, S), d);
            ChannelBroadcast.Multiply(new(y, S), new(gate, gs), new(y, S), d);
            ChannelBroadcast.MultiplyBackward(new(dout, S), new(x, S), new(gate, gs), new(dx, S), new(dgate, gs), d);
            GlobalAvgPool2D.Forward(new(y, S), new(pooled, gs), d);
            GlobalAvgPool2D.Backward(new(pooled, gs), new(dx, S), d);
        };
    }

    [Fact]
    public void Steady_state_calls_allocate_nothing()
    {
        Action<int> call = Calls(out _);
        foreach (int degree in new[] { 1, 2 })
        {
            long fewest = AllocationTests.FewestBytes(() => call(degree));
            Assert.True(fewest == 0, $"degree {degree}: at least {fewest} bytes in every window");
        }
    }

    [Fact]
    public void Results_are_bitwise_identical_across_thread_counts()
    {
        float[]? first = null;
        foreach (int degree in new[] { 1, 2, 4 })
        {
            Action<int> call = Calls(out Func<float[]> result);
            call(degree);
            if (first is null) first = result();
            else FloatAssert.BitwiseEqual(first, result(), $"degree {degree}");
        }
    }
}
