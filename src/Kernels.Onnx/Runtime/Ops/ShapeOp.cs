namespace Kernels.Onnx.Runtime.Ops;

/// <summary>
/// Shape: the input's dims as an int64 vector, known while planning (so a shape computed from it follows the batch).
/// Opset 15 adds start and end, which pick dims [start, end) with negative positions counted from the end and both
/// clamped to [0, rank].
/// </summary>
internal sealed class ShapeOp(OpContext c, long start, long? end) : Op(c.Node, [c.Input(0)], c.SupportedOutputs(1))
{
    public static Op Create(OpContext c)
    {
        NodeAttributes a = c.Attributes;
        a.OnlyKnown(c.Opset >= 15 ? ["end", "start"] : []);
        c.Arity(1, 1);
        return new ShapeOp(c, a.Int("start", 0), a.Has("end") ? a.Int("end", 0) : null);
    }

    public override Step Plan(PlanContext p)
    {
        int[] d = p.Dims[Inputs[0]]!;
        int from = Clamp(start, d.Length), to = Clamp(end ?? d.Length, d.Length);
        long[] shape = DefineKnown(p, Output, [Math.Max(to - from, 0)]);
        for (int i = from; i < to; i++) shape[i - from] = d[i];
        return NoStep.Known;
    }

    private static int Clamp(long position, int rank) => (int)Math.Clamp(position < 0 ? position + rank : position, 0, rank);
}
