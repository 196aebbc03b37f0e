namespace Kernels.Onnx.Runtime.Ops.Elementwise;

/// <summary>
/// HardSwish (opset 14): <c>x * relu6(x + 3) / 6</c>, PyTorch's hardswish: 0 for x &lt;= -3 (also at -inf), x for
/// x &gt;= 3. x + 3 is exact near -3, where x / 6 + 1/2 cancels (measured 256 ulps off that way).
/// </summary>
internal readonly struct HardSwishFunction : IUnaryFunction
{
    public static Op Create(OpContext c) => UnaryOp<HardSwishFunction>.Plain(c);

    public void Apply(ReadOnlySpan<float> x, Span<float> y, int degree)
    {
        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i];
            y[i] = v <= -3f ? 0f : v >= 3f ? v : v * (v + 3f) / 6f;
        }
    }
}
