namespace Kernels.Onnx.Runtime.Ops;

/// <summary>
/// Pad, constant mode, non-negative pads, rank up to 4. The pads are the attribute paddings (opset 1), pads (2-10)
/// or the constant input pads (11 on, with an optional constant_value input); the axes input (18 on) is refused.
/// </summary>
internal sealed class PadOp(OpContext c, long[] pads, float value) : Op(c.Node, [c.Input(0)], c.SupportedOutputs(1))
{
    private readonly long[] _pads = pads;
    private readonly float _value = value;

    public static Op Create(OpContext c)
    {
        NodeAttributes a = c.Attributes;
        a.OnlyKnown(c.Opset >= 11 ? ["mode"] : c.Opset >= 2 ? ["mode", "pads", "value"] : ["mode", "paddings", "value"]);
        c.Arity(c.Opset >= 11 ? 2 : 1, c.Opset >= 18 ? 4 : c.Opset >= 11 ? 3 : 1);
        string mode = a.String("mode", "constant");
        if (mode != "constant") throw a.Unsupported("mode", $"= {mode} (only constant)");
        long[] pads = c.Opset >= 11 ? c.ConstantInts(1, "pads")
            : a.Ints(c.Opset >= 2 ? "pads" : "paddings") ?? throw a.Malformed($"{(c.Opset >= 2 ? "pads" : "paddings")} is missing");
        float value = a.Float("value", 0f);
        if (c.Opset >= 11 && c.Input(2) >= 0)
        {
            float[] v = c.ConstantFloats(2, "constant_value");
            if (v.Length != 1) throw a.Malformed($"constant_value has {v.Length} values");
            value = v[0];
        }
        if (c.Input(3) >= 0) throw c.Unsupported("the axes input is not supported");
        return new PadOp(c, pads, value);
    }

    public override Step Plan(PlanContext p)
    {
        int[] d = Float(p, 0, "data");
        if (d.Length > 4) throw new NotSupportedException($"{Node}: X has rank {d.Length}; Pad supports rank 1-4.");
        if (_pads.Length != 2 * d.Length) throw Invalid($"pads has {_pads.Length} values but X {Format(d)} needs {2 * d.Length}");
        var result = new int[d.Length];
        for (int i = 0; i < d.Length; i++)
        {
            if (_pads[i] < 0 || _pads[i + d.Length] < 0) throw new NotSupportedException($"{Node}: negative pads (cropping) are " +
                $"not supported.");
            // Each pad is below 2^63, so the sum of two and a dim cannot wrap once compared one at a time.
            if (_pads[i] > int.MaxValue || _pads[i + d.Length] > int.MaxValue || d[i] + _pads[i] + _pads[i + d.Length] > int.MaxValue)
                throw Invalid($"pads {Format(_pads)} make dimension {i} of X {Format(d)} longer than 2^31");
            result[i] = (int)(d[i] + _pads[i] + _pads[i + d.Length]);
        }
        p.Define(Output, result, Node);
        return new PadStep(this);
    }

    private sealed class PadStep(PadOp op) : Step
    {
        public override void Run(Frame f)
        {
            int[] d = f.Dims(op.Inputs[0]);
            Span<int> begin = stackalloc int[d.Length];
            for (int i = 0; i < d.Length; i++) begin[i] = (int)op._pads[i];
            Padding.Copy(f.Read(op.Inputs[0]), d, f.Write(op.Output), f.Dims(op.Output), begin, op._value);
        }
    }
}
