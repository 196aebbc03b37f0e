namespace Kernels.Onnx.Runtime.Ops.Elementwise;

/// <summary>
/// An element-wise op of two or more inputs with numpy broadcasting (rank up to 6): float values at run time through
/// <see cref="Broadcast"/>, int64 values (shapes) while planning. Before opset 7 (8 for Max and Min) the ops broadcast
/// only with the attribute broadcast = 1 and an axis, a different rule that ONNX Runtime refuses too: refused by
/// name; without it the inputs must have equal dims. A variadic op (Max, Min) folds its inputs left to right.
/// </summary>
internal sealed class BinaryOp<TOperator> : Op where TOperator : IBinaryOperator
{
    // The opset from which the op broadcasts as numpy does (7, or 8 for Max and Min), and whether the model's is older.
    private readonly int _broadcastSince;
    private readonly bool _equalDims;

    private BinaryOp(OpContext c, int broadcastSince) : base(c.Node, c.Inputs, c.SupportedOutputs(1)) =>
        (_broadcastSince, _equalDims) = (broadcastSince, c.Opset < broadcastSince);

    /// <summary>Add, Sub, Mul, Div (opsets 1, 6, 7, 13, 14) and Pow (1, 7, 12, 13, 15): two inputs.</summary>
    public static Op Arithmetic(OpContext c)
    {
        NodeAttributes a = c.Attributes;
        bool pow = c.OpType == "Pow";
        a.OnlyKnown(c.Opset < 6 && !pow ? ["axis", "broadcast", "consumed_inputs"] : c.Opset < 7 ? ["axis", "broadcast"] : []);
        c.Arity(2, 2);
        if (a.Int("broadcast", 0) != 0)
            throw a.Unsupported("broadcast", $"= 1 (opset {c.Opset}'s legacy " +
                $"broadcast{(a.Has("axis") ? $" along axis {a.Int("axis", 0)}" : "")}; re-export at opset 7 or later)");
        return new BinaryOp<TOperator>(c, broadcastSince: 7);
    }

    /// <summary>Max and Min (opsets 1, 6, 8, 12, 13): one or more inputs; numpy broadcasting from opset 8.</summary>
    public static Op Variadic(OpContext c)
    {
        c.Attributes.OnlyKnown(c.Opset < 6 ? ["consumed_inputs"] : []);
        if (c.Inputs.Length == 0 || Array.IndexOf(c.Inputs, -1) >= 0) throw c.Malformed($"{c.OpType} needs one or more inputs, " +
            $"none of them empty");
        return new BinaryOp<TOperator>(c, broadcastSince: 8);
    }

    public override Step Plan(PlanContext p)
    {
        if (Array.TrueForAll(Inputs, v => p.Types[v] == ElementType.Int64 && p.Ints[v] is not null)) return Known(p);
        int[] y = Float(p, 0, "A");
        for (int i = 1; i < Inputs.Length; i++)
        {
            int[] d = Float(p, i, i == 1 ? "B" : $"input {i}");
            if (_equalDims && !y.AsSpan().SequenceEqual(d))
                throw Invalid($"the inputs {Format(y)} and {Format(d)} differ, and before opset {_broadcastSince} they must be " +
                    $"equal without broadcast = 1");
            y = Broadcast.Dims(y, d) ?? throw Invalid($"{Format(y)} and {Format(d)} do not broadcast");
        }
        if (y.Length > Broadcast.MaxRank) throw new NotSupportedException($"{Node}: rank {y.Length}; element-wise ops support " +
            $"rank up to {Broadcast.MaxRank}.");
        p.Define(Output, y, Node);
        var loops = new Broadcast[Math.Max(1, Inputs.Length - 1)];
        int[] left = p.Dims[Inputs[0]]!;
        for (int i = 1; i < Inputs.Length; i++) loops[i - 1] = Broadcast.Of(i == 1 ? left : y, p.Dims[Inputs[i]]!, y);
        if (Inputs.Length == 1) loops[0] = Broadcast.Of(left, left, y);
        return new BinaryStep(this, loops);
    }

    /// <summary>Shapes: the same broadcast on int64 values while planning.</summary>
    private Step Known(PlanContext p)
    {
        int[] dims = p.Dims[Inputs[0]]!;
        long[] values = p.Ints[Inputs[0]]!;
        for (int i = 1; i < Inputs.Length; i++)
        {
            int[] d = p.Dims[Inputs[i]]!;
            int[] y = Broadcast.Dims(dims, d) ?? throw Invalid($"{Format(dims)} and {Format(d)} do not broadcast");
            if (Sizes.Elements(y) > 1 << 20) throw new NotSupportedException($"{Node}: int64 values of {Format(y)}; only shapes " +
                $"(small int64 tensors) are computed.");
            try
            {
                values = Broadcast.Run<TOperator>(values, dims, p.Ints[Inputs[i]]!, d, y)
                    ?? throw new NotSupportedException($"{Node}: this op has no int64 form in this runtime.");
            }
            catch (ArithmeticException e)
            {
                throw Invalid($"int64 {e.Message.TrimEnd('.').ToLowerInvariant()} computing a shape");
            }
            dims = y;
        }
        p.DefineKnown(Output, dims, values);
        return NoStep.Known;
    }

    private sealed class BinaryStep(BinaryOp<TOperator> op, Broadcast[] loops) : Step
    {
        public override void Run(Frame f)
        {
            Span<float> y = f.Write(op.Output);
            if (op.Inputs.Length == 1)
            {
                f.Read(op.Inputs[0]).CopyTo(y);
                return;
            }
            loops[0].Run<TOperator>(f.Read(op.Inputs[0]), f.Read(op.Inputs[1]), y);
            for (int i = 2; i < op.Inputs.Length; i++) loops[i - 1].Run<TOperator>(y, f.Read(op.Inputs[i]),
                y); // in place: each element reads only itself
        }
    }
}
