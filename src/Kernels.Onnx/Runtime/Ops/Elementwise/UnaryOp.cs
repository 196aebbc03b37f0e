namespace Kernels.Onnx.Runtime.Ops.Elementwise;

/// <summary>A function applied element by element; an instance carries its attributes (alpha, min, ...).</summary>
internal interface IUnaryFunction
{
    /// <summary>y[i] = f(x[i]) on at most <paramref name="degree"/> threads (the kernels' meaning); y never overlaps x here.</summary>
    void Apply(ReadOnlySpan<float> x, Span<float> y, int degree);
}

/// <summary>
/// An element-wise op of one float input and one output of the same dims. The function's factory reads the
/// attributes; this class checks the rest: one input, opset 1-5's consumed_inputs (an in-place hint that changes
/// nothing), and that the output is used once per element.
/// </summary>
internal sealed class UnaryOp<TFunction>(OpContext c, TFunction function) : Op(c.Node, [c.Input(0)], c.SupportedOutputs(1))
    where TFunction : struct, IUnaryFunction
{
    private readonly TFunction _function = function;

    /// <summary>For functions without attributes: the node may carry consumed_inputs before opset 6 and nothing else.</summary>
    public static Op Plain(OpContext c, TFunction function = default)
    {
        c.Attributes.OnlyKnown(c.Opset < 6 ? ["consumed_inputs"] : []);
        c.Arity(1, 1);
        return new UnaryOp<TFunction>(c, function);
    }

    public override Step Plan(PlanContext p)
    {
        p.Define(Output, Float(p, 0, "X"), Node);
        return new UnaryStep(this);
    }

    private sealed class UnaryStep(UnaryOp<TFunction> op) : Step
    {
        public override void Run(Frame f) => op._function.Apply(f.Read(op.Inputs[0]), f.Write(op.Output), f.Degree);
    }
}
