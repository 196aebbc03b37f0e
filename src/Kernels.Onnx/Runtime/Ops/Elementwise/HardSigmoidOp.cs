using System.Numerics.Tensors;

namespace Kernels.Onnx.Runtime.Ops.Elementwise;

/// <summary>HardSigmoid: <c>max(0, min(1, alpha x + beta))</c>, alpha 0.2 and beta 0.5 by default (PyTorch's is alpha 1/6).</summary>
internal readonly struct HardSigmoidFunction(float alpha, float beta) : IUnaryFunction
{
    public static Op Create(OpContext c)
    {
        NodeAttributes a = c.Attributes;
        a.OnlyKnown(c.Opset < 6 ? ["alpha", "beta", "consumed_inputs"] : ["alpha", "beta"]);
        c.Arity(1, 1);
        return new UnaryOp<HardSigmoidFunction>(c, new(a.Float("alpha", 0.2f), a.Float("beta", 0.5f)));
    }

    public void Apply(ReadOnlySpan<float> x, Span<float> y, int degree)
    {
        TensorPrimitives.Multiply(x, alpha, y);
        TensorPrimitives.Add(y, beta, y);
        TensorPrimitives.Max(y, 0f, y);
        TensorPrimitives.Min(y, 1f, y);
    }
}
