namespace Kernels.Onnx.Runtime.Ops;

/// <summary>
/// Transpose: y dim i is x dim perm[i] (perm defaults to the dims reversed; a perm that is not a permutation of
/// 0..rank-1 is malformed). Floats are a <see cref="StridedCopy"/> (row copies when the last dim stays, else 16 x 16
/// tiles); int64 values known while planning are transposed then.
/// </summary>
internal sealed class TransposeOp(OpContext c, long[]? perm) : CopyOp(c.Node, [c.Input(0)], c.SupportedOutputs(1))
{
    public static Op Create(OpContext c)
    {
        c.Attributes.OnlyKnown("perm");
        c.Arity(1, 1);
        return new TransposeOp(c, c.Attributes.Ints("perm"));
    }

    public override Step Plan(PlanContext p)
    {
        int[] d = p.Dims[Inputs[0]]!;
        int[] order = perm is null ? [.. Enumerable.Range(0, d.Length).Reverse()]
            : perm.Length == d.Length && perm.Order().SequenceEqual(Enumerable.Range(0, d.Length).Select(i => (long)i))
                ? [.. perm.Select(i => (int)i)]
            : throw Invalid($"perm {Format(perm)} is not a permutation of the {d.Length} axes of the input {Format(d)}");
        long[] inStrides = Strides(d);
        int[] y = [.. order.Select(k => d[k])];
        return Copy(p, y, [.. order.Select(k => inStrides[k])], 0, "data");
    }
}
