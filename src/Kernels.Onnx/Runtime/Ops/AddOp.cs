using System.Numerics.Tensors;

namespace Kernels.Onnx.Runtime.Ops;

/// <summary>
/// Add with numpy broadcasting (opsets 7-14, rank up to 4): the dims are aligned at the end, and the innermost run
/// where both operands advance together (or one stays put) goes to TensorPrimitives in one call. Before opset 7 Add
/// broadcasts only with the attribute broadcast = 1 and an axis (a different rule, which ONNX Runtime refuses too):
/// refused by name; without it the operands must have equal dims.
/// </summary>
internal sealed class AddOp(OpContext c, bool legacy) : Op(c.Node, [c.Input(0), c.Input(1)], c.SupportedOutputs(1))
{
    public static Op Create(OpContext c)
    {
        NodeAttributes a = c.Attributes;
        a.OnlyKnown(c.Opset < 6 ? ["axis", "broadcast", "consumed_inputs"] : c.Opset < 7 ? ["axis", "broadcast"] : []);
        c.Arity(2, 2);
        if (a.Int("broadcast", 0) != 0)
            throw a.Unsupported("broadcast", $"= 1 (opset {c.Opset}'s legacy broadcast{(a.Has("axis") ? $" along axis {a.Int("axis", 0)}" : "")}; re-export at opset 7 or later)");
        return new AddOp(c, legacy: c.Opset < 7);
    }

    public override Step Plan(PlanContext p)
    {
        int[] a = Float(p, 0, "A"), b = Float(p, 1, "B");
        int rank = Math.Max(a.Length, b.Length);
        if (rank > 4) throw new NotSupportedException($"{Node}: rank {rank} inputs; Add supports rank up to 4.");
        if (legacy && !a.AsSpan().SequenceEqual(b))
            throw Invalid($"A {Format(a)} and B {Format(b)} differ, and before opset 7 Add broadcasts only with broadcast = 1");
        var y = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = Dim(a, i, rank), db = Dim(b, i, rank);
            // numpy: equal dims stay, a 1 stretches to the other (also to 0).
            y[i] = da == db ? da : da == 1 ? db : db == 1 ? da
                : throw Invalid($"A {Format(a)} and B {Format(b)} do not broadcast (dimension {i}: {da} and {db})");
        }
        p.Define(Output, y, Node);
        return new AddStep(this);
    }

    private static int Dim(int[] d, int i, int rank) => i - (rank - d.Length) is int k && k >= 0 ? d[k] : 1;

    private sealed class AddStep(AddOp op) : Step
    {
        public override void Run(Frame f)
        {
            int[] a = f.Dims(op.Inputs[0]), b = f.Dims(op.Inputs[1]), y = f.Dims(op.Output);
            ReadOnlySpan<float> sa = f.Read(op.Inputs[0]), sb = f.Read(op.Inputs[1]);
            Span<float> sy = f.Write(op.Output);
            // Strides in elements (0 where broadcast), over 4 dims with leading 1s.
            Span<int> ya = stackalloc int[4], yb = stackalloc int[4], dims = stackalloc int[4];
            dims.Fill(1);
            y.CopyTo(dims[(4 - y.Length)..]);
            Strides(a, ya);
            Strides(b, yb);
            int inner = dims[3];
            for (int i0 = 0; i0 < dims[0]; i0++)
                for (int i1 = 0; i1 < dims[1]; i1++)
                    for (int i2 = 0; i2 < dims[2]; i2++)
                    {
                        int oa = i0 * ya[0] + i1 * ya[1] + i2 * ya[2], ob = i0 * yb[0] + i1 * yb[1] + i2 * yb[2];
                        Span<float> dst = sy.Slice(((i0 * dims[1] + i1) * dims[2] + i2) * inner, inner);
                        if (ya[3] == 1 && yb[3] == 1) TensorPrimitives.Add(sa.Slice(oa, inner), sb.Slice(ob, inner), dst);
                        else if (ya[3] == 1) TensorPrimitives.Add(sa.Slice(oa, inner), sb[ob], dst);
                        else if (yb[3] == 1) TensorPrimitives.Add(sb.Slice(ob, inner), sa[oa], dst);
                        else dst.Fill(sa[oa] + sb[ob]);
                    }
        }

        private static void Strides(int[] d, Span<int> strides)
        {
            Span<int> dims = stackalloc int[4];
            dims.Fill(1);
            d.CopyTo(dims[(4 - d.Length)..]);
            int stride = 1;
            for (int i = 3; i >= 0; i--)
            {
                strides[i] = dims[i] == 1 ? 0 : stride;
                stride *= dims[i];
            }
        }
    }
}
