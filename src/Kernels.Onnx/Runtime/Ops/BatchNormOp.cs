using System.Numerics.Tensors;

namespace Kernels.Onnx.Runtime.Ops;

/// <summary>
/// BatchNormalization (inference) not folded into a Conv: y = x * scale + shift per channel (dimension 1), with
/// scale = gamma / sqrt(var + eps) and shift = beta - mean * scale computed once in double. The attributes each
/// opset knows: consumed_inputs and is_test before 7, spatial before 9, training_mode from 14.
/// </summary>
internal sealed class BatchNormOp(OpContext c, float[] scale, float[] shift) : Op(c.Node, [c.Input(0)], c.SupportedOutputs(1))
{
    private readonly float[] _scale = scale, _shift = shift;

    public static Op Create(OpContext c)
    {
        (float[] scale, float[] shift) = ScaleShift(c);
        return new BatchNormOp(c, scale, shift);
    }

    /// <summary>Checks the node and computes its per-channel scale and shift (also for the Conv folding pass).</summary>
    public static (float[] Scale, float[] Shift) ScaleShift(OpContext c)
    {
        NodeAttributes a = c.Attributes;
        _ = c.SupportedOutputs(1); // the running statistics of training mode
        a.OnlyKnown(c.Opset < 6 ? ["consumed_inputs", "epsilon", "is_test", "momentum", "spatial"]
            : c.Opset < 7 ? ["epsilon", "is_test", "momentum", "spatial"]
            : c.Opset < 9 ? ["epsilon", "momentum", "spatial"]
            : c.Opset < 14 ? ["epsilon", "momentum"] : ["epsilon", "momentum", "training_mode"]);
        c.Arity(5, 5);
        if (a.Int("training_mode", 0) != 0) throw a.Unsupported("training_mode", "= 1 (inference only)");
        if (a.Int("spatial", 1) == 0) throw a.Unsupported("spatial", "= 0 (per-activation statistics)");
        if (c.Opset < 7 && a.Has("is_test") && a.Int("is_test", 0) == 0) throw a.Unsupported("is_test", "= 0 (training)");
        float eps = a.Float("epsilon", 1e-5f);
        float[] gamma = c.ConstantFloats(1, "scale"), beta = c.ConstantFloats(2, "B"),
            mean = c.ConstantFloats(3, "input_mean"), variance = c.ConstantFloats(4, "input_var");
        int channels = gamma.Length;
        if (beta.Length != channels || mean.Length != channels || variance.Length != channels)
            throw a.Malformed($"scale, B, mean and var have {gamma.Length}, {beta.Length}, {mean.Length} and {variance.Length} values");
        var scale = new float[channels];
        var shift = new float[channels];
        for (int ch = 0; ch < channels; ch++)
        {
            double s = gamma[ch] / Math.Sqrt(variance[ch] + (double)eps);
            scale[ch] = (float)s;
            shift[ch] = (float)(beta[ch] - mean[ch] * s);
        }
        return (scale, shift);
    }

    public override Step Plan(PlanContext p)
    {
        int[] x = Float(p, 0, "X");
        if (x.Length < 2 || x[1] != _scale.Length) throw Invalid($"X {Format(x)} must have {_scale.Length} channels in dimension 1");
        p.Define(Output, x, Node);
        return new ScaleShiftStep(this);
    }

    private sealed class ScaleShiftStep(BatchNormOp op) : Step
    {
        public override void Run(Frame f)
        {
            int[] x = f.Dims(op.Inputs[0]);
            int plane = (int)Sizes.Elements(x.AsSpan(2));
            ReadOnlySpan<float> src = f.Read(op.Inputs[0]);
            Span<float> dst = f.Write(op.Output);
            for (int n = 0; n < x[0]; n++)
                for (int ch = 0; ch < x[1]; ch++)
                {
                    int at = (n * x[1] + ch) * plane;
                    TensorPrimitives.Multiply(src.Slice(at, plane), op._scale[ch], dst.Slice(at, plane));
                    TensorPrimitives.Add(dst.Slice(at, plane), op._shift[ch], dst.Slice(at, plane));
                }
        }
    }
}
