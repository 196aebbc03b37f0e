namespace Kernels.Onnx.Runtime.Ops;

/// <summary>
/// Expand (opset 8 on): the input broadcast with the int64 shape input (known while planning) as numpy broadcasts two
/// arrays: dims aligned at the end, a 1 on either side stretches to the other (a 1 in the shape keeps the input's
/// dim). Floats are a <see cref="StridedCopy"/> with stride 0 on the stretched dims; int64 values are expanded while
/// planning.
/// </summary>
internal sealed class ExpandOp(OpContext c) : CopyOp(c.Node, [c.Input(0), c.Input(1)], c.SupportedOutputs(1))
{
    public static Op Create(OpContext c)
    {
        c.Attributes.OnlyKnown();
        c.Arity(2, 2);
        return new ExpandOp(c);
    }

    public override Step Plan(PlanContext p)
    {
        int[] d = p.Dims[Inputs[0]]!;
        long[] shape = Ints(p, 1, "shape");
        int rank = Math.Max(d.Length, shape.Length);
        var y = new int[rank];
        var strides = new long[rank];
        long[] inStrides = Strides(d);
        for (int i = 0; i < rank; i++)
        {
            int k = i - (rank - d.Length);
            long s = i - (rank - shape.Length) is int j && j >= 0 ? shape[j] : 1, x = k >= 0 ? d[k] : 1;
            if (s < 0 || s > int.MaxValue) throw Invalid($"shape {Format(shape)} has dimension {s}");
            y[i] = (int)(x == s || s == 1 ? x : x == 1 ? s
                : throw Invalid($"the input {Format(d)} does not broadcast to shape {Format(shape)} (dimension {i}: {x} and {s})"));
            strides[i] = k >= 0 && x != 1 ? inStrides[k] : 0;
        }
        return Copy(p, y, strides, 0, "input");
    }
}
