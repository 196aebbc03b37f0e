namespace Kernels.Onnx.Runtime.Ops;

/// <summary>
/// Conv (opsets 1 and 11; group 1, dilation 1) on <see cref="Conv2D"/> with prepared filters: symmetric padding goes
/// to the kernel as is; asymmetric or SAME_* padding first makes a zero-padded copy of the input (step scratch).
/// Filters are prepared once per algorithm a plan picks (Winograd-transformed, or packed for direct and im2col).
/// </summary>
internal sealed class ConvOp : Op
{
    private readonly float[] _weights, _bias;
    private readonly Shape4 _ws;
    private readonly Window _window;
    // Prepared forms by algorithm, made when a plan first needs one (planning is serialized by the model).
    private readonly PreparedConv2DFilters?[] _prepared = new PreparedConv2DFilters?[4];

    private ConvOp(OpContext c, float[] weights, Shape4 ws, float[] bias, Window window) : base(c.Node, [c.Input(0)], c.SupportedOutputs(1))
    {
        (_weights, _ws, _bias, _window) = (weights, ws, bias, window);
    }

    public static Op Create(OpContext c)
    {
        NodeAttributes a = c.Attributes;
        a.OnlyKnown("auto_pad", "dilations", "group", "kernel_shape", "pads", "strides");
        c.Arity(2, 3);
        if (a.Int("group", 1) != 1) throw a.Unsupported("group", $"= {a.Int("group", 1)} (grouped or depthwise convolution)");
        if (a.Ints("dilations") is { } d && d.Any(v => v != 1)) throw a.Unsupported("dilations", $"= [{string.Join(",", d)}]");
        float[] weights = c.ConstantFloats(1, "W");
        ConstantTensor w = c.Constant(1)!;
        if (w.Dims.Length != 4) throw c.Unsupported($"W has rank {w.Dims.Length}; only 2-D convolution (4-D W) is supported");
        if (Array.Exists(w.Dims, d => d < 1)) throw c.Malformed($"W {Format(w.Dims)} has a zero dimension");
        var ws = new Shape4(w.Dims[0], w.Dims[1], w.Dims[2], w.Dims[3]);
        if (a.Ints("kernel_shape") is { } k && (k.Length != 2 || k[0] != ws.H || k[1] != ws.W))
            throw c.Malformed($"kernel_shape [{string.Join(",", k)}] differs from W's {ws.H}x{ws.W}");
        float[] bias = c.Input(2) >= 0 ? c.ConstantFloats(2, "B") : new float[ws.N];
        if (bias.Length != ws.N) throw c.Malformed($"B has {bias.Length} values but W has {ws.N} filters");
        return new ConvOp(c, weights, ws, bias, Window.Read(c, "padding a plane by 2^29 or more"));
    }

    public override Step Plan(PlanContext p)
    {
        int[] x = Float(p, 0, "X", 4);
        if (x[1] != _ws.C) throw Invalid($"W has {_ws.C} input channels but X {Format(x)} has {x[1]}");
        (AxisPads h, AxisPads w) = _window.Resolve(x[2], x[3], _ws.H, _ws.W);
        long ph = h.Padded(x[2]), pw = w.Padded(x[3]);
        if (ph < _ws.H || pw < _ws.W) throw Invalid($"the {_ws.H}x{_ws.W} kernel does not fit the padded input ({x[0]},{x[1]},{ph},{pw})");
        bool symmetric = h.Begin == h.End && w.Begin == w.End && h.Begin == w.Begin;
        var padded = new Shape4(x[0], x[1], (int)Math.Min(ph, int.MaxValue), (int)Math.Min(pw, int.MaxValue));
        if (!symmetric && Sizes.Elements([x[0], x[1], padded.H, padded.W]) > Array.MaxLength)
            throw Invalid($"the padded copy ({x[0]},{x[1]},{ph},{pw}) of X is more than one buffer can hold");
        var parameters = new Conv2DParams(_window.Stride, symmetric ? h.Begin : 0);
        Shape4 input = symmetric ? As4(x) : padded;
        long outH = (input.H + 2L * parameters.Pad - _ws.H) / parameters.Stride + 1, outW = (input.W + 2L * parameters.Pad - _ws.W) / parameters.Stride + 1;
        p.Define(Output, [x[0], _ws.N, (int)outH, (int)outW], Node);
        Conv2DAlgorithm algorithm = Conv2D.Choose(input, _ws, parameters);
        PreparedConv2DFilters filters = _prepared[(int)algorithm] ??=
            Conv2D.Prepare(new ReadOnlyNchwSpan<float>(_weights, _ws), _bias, parameters, algorithm);
        return new ConvStep(this, filters, symmetric ? null : (padded, h.Begin, w.Begin));
    }

    private sealed class ConvStep(ConvOp op, PreparedConv2DFilters filters, (Shape4 Shape, int Top, int Left)? padded) : Step
    {
        public override long ScratchFloats => padded?.Shape.Length ?? 0;

        public override void Run(Frame f)
        {
            int[] x = f.Dims(op.Inputs[0]);
            var y = new NchwSpan<float>(f.Write(op.Output), As4(f.Dims(op.Output)));
            if (padded is not var (shape, top, left))
            {
                Conv2D.Forward(new ReadOnlyNchwSpan<float>(f.Read(op.Inputs[0]), As4(x)), filters, y, f.Degree);
                return;
            }
            Span<float> copy = f.Scratch(shape.Length);
            Padding.Copy(f.Read(op.Inputs[0]), x, copy, [shape.N, shape.C, shape.H, shape.W], [0, 0, top, left], 0f);
            Conv2D.Forward(new ReadOnlyNchwSpan<float>(copy, shape), filters, y, f.Degree);
        }
    }
}
