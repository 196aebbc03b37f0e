namespace Kernels.Onnx.Runtime.Ops;

/// <summary>
/// Softmax along one axis. Opset 13 on: that axis alone; before 13: the input seen as 2-D, rows of everything from
/// the axis on (the same thing when the axis is the last).
/// </summary>
internal sealed class SoftmaxOp(OpContext c, long axis, bool flattenRows) : Op(c.Node, [c.Input(0)], c.SupportedOutputs(1))
{
    public static Op Create(OpContext c)
    {
        c.Attributes.OnlyKnown("axis");
        c.Arity(1, 1);
        return new SoftmaxOp(c, c.Attributes.Int("axis", c.Opset >= 13 ? -1 : 1), flattenRows: c.Opset < 13);
    }

    public override Step Plan(PlanContext p)
    {
        int[] d = Float(p, 0, "X");
        if (axis < -d.Length || axis >= d.Length || d.Length == 0) throw Invalid($"axis {axis} is outside [-{d.Length}, " +
            $"{d.Length - 1}] for X {Format(d)}");
        p.Define(Output, d, Node);
        int a = (int)(axis < 0 ? axis + d.Length : axis);
        (long outer, long length, long inner) = flattenRows ? (Sizes.Elements(d.AsSpan(0, a)), Sizes.Elements(d.AsSpan(a)), 1L)
            : (Sizes.Elements(d.AsSpan(0, a)), d[a], Sizes.Elements(d.AsSpan(a + 1)));
        return new SoftmaxStep(this, (int)outer, (int)length, (int)inner);
    }

    private sealed class SoftmaxStep(SoftmaxOp op, int outer, int length, int inner) : Step
    {
        public override void Run(Frame f)
        {
            ReadOnlySpan<float> src = f.Read(op.Inputs[0]);
            Span<float> dst = f.Write(op.Output);
            if (inner == 1)
            {
                for (int o = 0; o < outer; o++) Losses.Probabilities(src.Slice(o * length, length), dst.Slice(o * length, length));
                return;
            }
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                {
                    int start = o * length * inner + i;
                    float max = float.NegativeInfinity;
                    for (int k = 0; k < length; k++) max = Math.Max(max, src[start + k * inner]);
                    double sum = 0;
                    for (int k = 0; k < length; k++) sum += dst[start + k * inner] = MathF.Exp(src[start + k * inner] - max);
                    float scale = (float)(1 / sum);
                    for (int k = 0; k < length; k++) dst[start + k * inner] *= scale;
                }
        }
    }
}
