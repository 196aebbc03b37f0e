namespace Kernels.Onnx.Runtime.Ops;

/// <summary>
/// ConstantOfShape (opset 9 on): a value of the dims the int64 input shape gives (known while planning), every element
/// the attribute value (a one-element float or int64 tensor; default float 0). A float result is filled at run time;
/// an int64 one is a value known while planning.
/// </summary>
internal sealed class ConstantOfShapeOp(OpContext c, ConstantTensor value) : Op(c.Node, [c.Input(0)], c.SupportedOutputs(1))
{
    public static Op Create(OpContext c)
    {
        NodeAttributes a = c.Attributes;
        a.OnlyKnown("value");
        c.Arity(1, 1);
        ConstantTensor value = a.Tensor("value") is { } t ? GraphReader.Constant(t, c.Graph.Source, $"{c.Node} attribute " +
            $"value") : new([1], [0f], null);
        if (value.Length != 1) throw a.Malformed($"attribute value has {value.Length} elements but must have one");
        return new ConstantOfShapeOp(c, value);
    }

    public override Step Plan(PlanContext p)
    {
        long[] shape = Ints(p, 0, "input");
        if (p.Dims[Inputs[0]]!.Length != 1) throw Invalid($"the shape input has dims {Format(p.Dims[Inputs[0]]!)} but must be a vector");
        var y = new int[shape.Length];
        for (int i = 0; i < y.Length; i++)
            y[i] = shape[i] is >= 0 and <= int.MaxValue ? (int)shape[i] : throw Invalid($"shape {Format(shape)} has dimension {shape[i]}");
        if (value.Ints is long[] ints)
        {
            Array.Fill(DefineKnown(p, Output, y), ints[0]);
            return NoStep.Known;
        }
        p.Define(Output, y, Node);
        return new FillStep(this, value.Floats![0]);
    }

    private sealed class FillStep(ConstantOfShapeOp op, float value) : Step
    {
        public override void Run(Frame f) => f.Write(op.Output).Fill(value);
    }
}
