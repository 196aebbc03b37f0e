namespace Kernels.Onnx.Runtime.Ops;

/// <summary>
/// Reshape: the output is the input's buffer under new dims, no copy. The shape is the attribute shape before
/// opset 5, the int64 input shape after (a constant, or a shape computed while planning); 0 copies the input's
/// dimension (allowzero 0, the only form supported), one -1 takes what is left.
/// </summary>
internal sealed class ReshapeOp(OpContext c, long[]? shape) : Op(c.Node, c.Opset >= 5 ? [c.Input(0), c.Input(1)] : [c.Input(0)],
    c.SupportedOutputs(1))
{
    private readonly long[]? _shape = shape;

    public static Op Create(OpContext c)
    {
        NodeAttributes a = c.Attributes;
        if (c.Opset < 5)
        {
            a.OnlyKnown("consumed_inputs", "shape");
            c.Arity(1, 1);
            return new ReshapeOp(c, a.Ints("shape") ?? throw a.Malformed("shape is missing"));
        }
        a.OnlyKnown(c.Opset >= 14 ? ["allowzero"] : []);
        if (a.Int("allowzero", 0) != 0) throw a.Unsupported("allowzero", "= 1");
        c.Arity(2, 2);
        return new ReshapeOp(c, null);
    }

    public override Step Plan(PlanContext p)
    {
        int[] d = Float(p, 0, "data");
        long[] shape = _shape ?? (p.Types[Inputs[1]] == ElementType.Int64 ? p.Ints[Inputs[1]] : null)
            ?? throw (p.Types[Inputs[1]] == ElementType.Int64 ? new NotSupportedException($"{Node}: the shape input is computed " +
                $"from data at run time; only constant shapes and shapes of dims are supported.")
                : new InvalidDataException($"{Node}: the shape input is float but must be int64."));
        p.Define(Output, Resolve(d, shape), Node);
        return new NoStep(aliasOf: 0);
    }

    private int[] Resolve(int[] d, long[] shape)
    {
        var result = new int[shape.Length];
        int infer = -1;
        long known = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            long s = shape[i];
            if (s == -1)
            {
                if (infer >= 0) throw Invalid($"shape {Format(shape)} has more than one -1");
                infer = i;
                continue;
            }
            if (s == 0)
            {
                if (i >= d.Length) throw Invalid($"shape {Format(shape)} copies dimension {i} (0) but X {Format(d)} has rank {d.Length}");
                s = d[i];
            }
            if (s < 0 || s > int.MaxValue) throw Invalid($"shape {Format(shape)} has dimension {s}");
            result[i] = (int)s;
            known = Sizes.Product(known, s);
        }
        long total = Sizes.Elements(d);
        if (infer >= 0)
        {
            if (known == 0 || total % known != 0) throw Invalid($"X {Format(d)} has {total} elements, which shape " +
                $"{Format(shape)} cannot hold");
            result[infer] = (int)(total / known);
        }
        else if (known != total) throw Invalid($"X {Format(d)} has {total} elements but shape {Format(shape)} has {known}");
        return result;
    }
}
