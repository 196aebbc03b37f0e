namespace Kernels.Onnx.Runtime.Ops;

/// <summary>
/// Cast to float, double (held as float), int64, int32 or bool (both held as int64: the int32 value, or 0 and 1).
/// The target is the attribute to: a type name before opset 6, a TensorProto.DataType code from 6 (saturate, from 19,
/// concerns float8 targets only). Float to float is a view. Int64 values (shapes, constants) are cast while planning;
/// so are float constants cast to an integer type. A float computed at run time cast to an integer type is refused:
/// int64 values exist only while planning here.
/// </summary>
internal sealed class CastOp(OpContext c, int to) : Op(c.Node, [c.Input(0)], c.SupportedOutputs(1))
{
    private const int F32 = 1, I32 = 6, I64 = 7, Boolean = 9, F64 = 11; // TensorProto.DataType

    public static Op Create(OpContext c)
    {
        NodeAttributes a = c.Attributes;
        a.OnlyKnown(c.Opset >= 19 ? ["saturate", "to"] : ["to"]);
        c.Arity(1, 1);
        if (!a.Has("to")) throw a.Malformed("Cast needs the attribute to");
        int to = c.Opset < 6 ? a.String("to", "") switch
        {
            "FLOAT" => F32,
            "DOUBLE" => F64,
            "INT64" => I64,
            "INT32" => I32,
            "BOOL" => Boolean,
            string name => throw a.Unsupported("to", $"= {name} (float, double, int64, int32 and bool are)"),
        } : (int)Math.Clamp(a.Int("to", 0), -1, int.MaxValue);
        if (to is not (F32 or F64 or I64 or I32 or Boolean))
            throw a.Unsupported("to", $"= {to} (float 1, double 11, int64 7, int32 6 and bool 9 are)");
        return new CastOp(c, to);
    }

    public override Step Plan(PlanContext p)
    {
        int x = Inputs[0];
        int[] d = p.Dims[x]!;
        bool toFloat = to is F32 or F64;
        if (p.Types[x] == ElementType.Float && toFloat)
        {
            p.Define(Output, d, Node);
            return new NoStep(aliasOf: 0);
        }
        if (toFloat)
        {
            long[] ints = Ints(p, 0, "input");
            p.Charge(ints.Length, Node, "the cast values");
            float[] values = [.. ints.Select(v => (float)v)];
            p.Define(Output, d, Node);
            return new KnownStep(this, values);
        }
        long[] y = DefineKnown(p, Output, d);
        if (p.Types[x] == ElementType.Int64)
            for (int i = 0; i < y.Length; i++) y[i] = Convert(p.Ints[x]![i]);
        else if (p.Floats[x] is float[] constant)
            // Toward zero (ONNX leaves out-of-range values undefined: here they saturate to int64 first, NaN gives 0).
            for (int i = 0; i < y.Length; i++)
                y[i] = to == Boolean ? (constant[i] != 0 ? 1 : 0) : Convert(float.IsNaN(constant[i]) ? 0 : (long)constant[i]);
        else throw new NotSupportedException($"{Node}: a float computed at run time cast to " +
            $"{(to == I64 ? "int64" : to == I32 ? "int32" : "bool")} is not supported (integer values exist only as shapes and " +
                $"constants).");
        return NoStep.Known;
    }

    private long Convert(long v) => to switch
    {
        I32 => unchecked((int)v),
        Boolean => v != 0 ? 1 : 0,
        _ => v,
    };

    /// <summary>Writes int64 values known while planning, cast to float, into the output.</summary>
    private sealed class KnownStep(CastOp op, float[] values) : Step
    {
        public override void Run(Frame f) => values.CopyTo(f.Write(op.Output));
    }
}
