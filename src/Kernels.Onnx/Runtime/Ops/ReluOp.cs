namespace Kernels.Onnx.Runtime.Ops;

/// <summary>Relu (opsets 1, 6, 13, 14) on the fast element-wise kernel; opset 1's consumed_inputs is an in-place hint and changes nothing.</summary>
internal sealed class ReluOp(OpContext c) : Op(c.Node, [c.Input(0)], c.SupportedOutputs(1))
{
    public static Op Create(OpContext c)
    {
        c.Attributes.OnlyKnown(c.Opset < 6 ? ["consumed_inputs"] : []);
        c.Arity(1, 1);
        return new ReluOp(c);
    }

    public override Step Plan(PlanContext p)
    {
        p.Define(Output, Float(p, 0, "X"), Node);
        return new ReluStep(this);
    }

    private sealed class ReluStep(ReluOp op) : Step
    {
        public override void Run(Frame f) => Relu.Forward(f.Read(op.Inputs[0]), f.Write(op.Output), f.Degree);
    }
}
