using System.Numerics.Tensors;

namespace Kernels.Onnx.Runtime.Ops;

/// <summary>
/// LayerNormalization (opset 17): each row of the axes from <c>axis</c> on is normalized by its own mean and variance,
/// <c>y = (x - mean) / sqrt(var + epsilon) * Scale + B</c>, in two passes (the mean, then the squares of x - mean, so a
/// large mean costs no precision). Scale and B hold one value per element of a row (or one for all); the optional
/// outputs Mean and InvStdDev have X's leading dims and 1 for each normalized axis. torch 1.13 exports LayerNorm as
/// this op from opset 17 and as
/// ReduceMean, Sub, Pow, Sqrt, Div, Mul, Add before; both run.
/// </summary>
internal sealed class LayerNormOp(OpContext c, long axis, float epsilon) : Op(c.Node, c.Input(2) >= 0 ? [c.Input(0), c.Input(1),
    c.Input(2)] : [c.Input(0), c.Input(1)],
    c.SupportedOutputs(3))
{
    public static Op Create(OpContext c)
    {
        NodeAttributes a = c.Attributes;
        a.OnlyKnown("axis", "epsilon", "stash_type");
        c.Arity(2, 3);
        if (a.Int("stash_type", 1) != 1) throw a.Unsupported("stash_type", $"= {a.Int("stash_type", 1)} (statistics in another " +
            $"type than float)");
        return new LayerNormOp(c, a.Int("axis", -1), a.Float("epsilon", 1e-5f));
    }

    public override Step Plan(PlanContext p)
    {
        int[] x = Float(p, 0, "X");
        long at = axis < 0 ? axis + x.Length : axis;
        if (at < 0 || at >= x.Length) throw Invalid($"axis {axis} is outside [-{x.Length}, {x.Length - 1}] for X {Format(x)}");
        long row = Sizes.Elements(x.AsSpan((int)at));
        for (int i = 1; i < Inputs.Length; i++)
        {
            long n = Sizes.Elements(Float(p, i, i == 1 ? "Scale" : "B"));
            if (n != row && n != 1) throw Invalid($"{(i == 1 ? "Scale" : "B")} {Format(p.Dims[Inputs[i]]!)} has {n} values but a " +
                $"row of X {Format(x)} from axis {axis} has {row}");
        }
        p.Define(Output, x, Node);
        int[] statistics = [.. x.Select((d, i) => i < at ? d : 1)];
        for (int i = 1; i < Outputs.Length; i++) p.Define(Outputs[i], statistics, Node);
        return new LayerNormStep(this, (int)row, epsilon);
    }

    private sealed class LayerNormStep(LayerNormOp op, int row, float epsilon) : Step
    {
        public override void Run(Frame f)
        {
            ReadOnlySpan<float> x = f.Read(op.Inputs[0]), scale = f.Read(op.Inputs[1]);
            ReadOnlySpan<float> shift = op.Inputs.Length > 2 ? f.Read(op.Inputs[2]) : default;
            Span<float> y = f.Write(op.Output);
            Span<float> means = op.Outputs.Length > 1 && op.Outputs[1] >= 0 ? f.Write(op.Outputs[1]) : default;
            Span<float> inverses = op.Outputs.Length > 2 && op.Outputs[2] >= 0 ? f.Write(op.Outputs[2]) : default;
            for (int start = 0, r = 0; start < x.Length; start += row, r++)
            {
                ReadOnlySpan<float> xr = x.Slice(start, row);
                Span<float> yr = y.Slice(start, row);
                float mean = TensorPrimitives.Sum(xr) / row;
                TensorPrimitives.Subtract(xr, mean, yr);
                float inv = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(yr) / row + epsilon);
                TensorPrimitives.Multiply(yr, inv, yr);
                if (!means.IsEmpty) means[r] = mean;
                if (!inverses.IsEmpty) inverses[r] = inv;
                if (scale.Length == 1) TensorPrimitives.Multiply(yr, scale[0], yr);
                else TensorPrimitives.Multiply(yr, scale, yr);
                if (shift.Length == 1) TensorPrimitives.Add(yr, shift[0], yr);
                else if (shift.Length > 1) TensorPrimitives.Add(yr, shift, yr);
            }
        }
    }
}
