namespace Kernels.Onnx.Runtime.Ops;

/// <summary>
/// Conv (opsets 1 and 11) on <see cref="Conv2D"/> with prepared filters and PyTorch's parameters: strides, dilations
/// and pads per axis (asymmetric too; auto_pad resolved for each plane), and groups (grouped and depthwise convolution
/// run on the library's grouped and depthwise paths). Filters are prepared once per algorithm and parameters a plan
/// picks (Winograd-transformed, packed for direct and im2col, or in the depthwise kernel's order).
/// </summary>
internal sealed class ConvOp : Op
{
    private readonly float[] _weights, _bias;
    private readonly Shape4 _ws; // (F, C / group, HH, WW), as ONNX and PyTorch store it
    private readonly int _groups, _dilationH, _dilationW;
    private readonly Window _window;
    // Prepared forms by algorithm and parameters (SAME_* padding differs between planes), made when a plan first needs
    // one: planning is serialized by the model.
    private readonly Dictionary<(Conv2DAlgorithm, Conv2DParams), PreparedConv2DFilters> _prepared = [];

    private ConvOp(OpContext c, float[] weights, Shape4 ws, int groups, (int H, int W) dilation, float[] bias, Window window)
        : base(c.Node, [c.Input(0)], c.SupportedOutputs(1))
    {
        (_weights, _ws, _groups, _dilationH, _dilationW, _bias, _window) = (weights, ws, groups, dilation.H, dilation.W, bias, window);
    }

    public static Op Create(OpContext c)
    {
        NodeAttributes a = c.Attributes;
        a.OnlyKnown("auto_pad", "dilations", "group", "kernel_shape", "pads", "strides");
        c.Arity(2, 3);
        float[] weights = c.ConstantFloats(1, "W");
        ConstantTensor w = c.Constant(1)!;
        if (w.Dims.Length != 4) throw c.Unsupported($"W has rank {w.Dims.Length}; only 2-D convolution (4-D W) is supported");
        if (Array.Exists(w.Dims, d => d < 1)) throw c.Malformed($"W {Format(w.Dims)} has a zero dimension");
        var ws = new Shape4(w.Dims[0], w.Dims[1], w.Dims[2], w.Dims[3]);
        long groups = a.Int("group", 1);
        if (groups < 1 || groups > ws.N || ws.N % groups != 0) throw c.Malformed($"group {groups} does not divide W's {ws.N} filters");
        long[] dilations = a.Ints("dilations") ?? [1, 1];
        if (dilations.Length != 2 || dilations.Any(d => d is < 1 or > 1 << 16))
            throw c.Malformed($"dilations [{string.Join(",", dilations)}] must be two values in [1, 65536]");
        if (a.Ints("kernel_shape") is { } k && (k.Length != 2 || k[0] != ws.H || k[1] != ws.W))
            throw c.Malformed($"kernel_shape [{string.Join(",", k)}] differs from W's {ws.H}x{ws.W}");
        float[] bias = c.Input(2) >= 0 ? c.ConstantFloats(2, "B") : new float[ws.N];
        if (bias.Length != ws.N) throw c.Malformed($"B has {bias.Length} values but W has {ws.N} filters");
        return new ConvOp(c, weights, ws, (int)groups, ((int)dilations[0], (int)dilations[1]), bias, Window.Read(c,
            "padding a plane by 2^29 or more"));
    }

    public override Step Plan(PlanContext p)
    {
        int[] x = Float(p, 0, "X", 4);
        if (x[1] != (long)_ws.C * _groups) throw Invalid($"W has {_ws.C} input channels per group ({_groups} groups) but X " +
            $"{Format(x)} has {x[1]}");
        // The span of a dilated kernel, and the padded plane, in 64 bits: every one is below 2^31 + 2^30.
        long spanH = (long)_dilationH * (_ws.H - 1) + 1, spanW = (long)_dilationW * (_ws.W - 1) + 1;
        if (spanH > int.MaxValue || spanW > int.MaxValue) throw Invalid($"the dilated kernel spans {spanH}x{spanW}");
        (AxisPads h, AxisPads w) = _window.Resolve(x[2], x[3], (int)spanH, (int)spanW);
        long ph = h.Padded(x[2]), pw = w.Padded(x[3]);
        if (ph < spanH || pw < spanW) throw Invalid($"the {_ws.H}x{_ws.W} kernel (spanning {spanH}x{spanW}) does not fit the " +
            $"padded input ({x[0]},{x[1]},{ph},{pw})");
        if (ph > int.MaxValue || pw > int.MaxValue) throw Invalid($"the padded input ({x[0]},{x[1]},{ph},{pw}) is longer than " +
            $"2^31 on an axis");
        long outH = (ph - spanH) / _window.StrideH + 1, outW = (pw - spanW) / _window.StrideW + 1;
        p.Define(Output, [x[0], _ws.N, (int)outH, (int)outW], Node);
        // The kernels pad a copy of each image (or group) in their own scratch: charged like a buffer of ours, so a
        // padding far beyond the image is refused here rather than by the kernel's scratch check at run time.
        if (h != default || w != default)
            p.Charge(Sizes.Product(Sizes.Product(x[1], ph), pw), Node, $"the padded copy of one image ({x[1]},{ph},{pw})");
        var parameters = new Conv2DParams(1, 0)
        {
            StrideH = _window.StrideH, StrideW = _window.StrideW, PadTop = h.Begin, PadBottom = h.End, PadLeft = w.Begin, PadRight = w.End,
            DilationH = _dilationH, DilationW = _dilationW, Groups = _groups,
        };
        var input = new Shape4(x[0], x[1], x[2], x[3]);
        try
        {
            Conv2DAlgorithm algorithm = Conv2D.Choose(input, _ws, parameters);
            if (!_prepared.TryGetValue((algorithm, parameters), out PreparedConv2DFilters? filters))
                _prepared[(algorithm, parameters)] = filters = Conv2D.Prepare(new ReadOnlyNchwSpan<float>(_weights, _ws), _bias,
                    parameters, algorithm);
            return new ConvStep(this, filters);
        }
        catch (ArgumentException e)
        {
            // Checked above; should the kernels refuse a geometry anyway, it is the file's, not an argument of the caller's.
            throw Invalid($"the convolution's geometry is refused by the kernels: {e.Message}");
        }
    }

    private sealed class ConvStep(ConvOp op, PreparedConv2DFilters filters) : Step
    {
        public override string Detail => $"{filters.Algorithm}{(op._groups > 1 ? $", {op._groups} groups" : "")}";

        public override void Run(Frame f) =>
            Conv2D.Forward(new ReadOnlyNchwSpan<float>(f.Read(op.Inputs[0]), As4(f.Dims(op.Inputs[0]))), filters,
                new NchwSpan<float>(f.Write(op.Output), As4(f.Dims(op.Output))), f.Degree);
    }
}
