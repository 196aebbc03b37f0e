namespace Kernels.Onnx.Runtime.Ops;

/// <summary>
/// Conv (opsets 1 and 11; dilation 1) on <see cref="Conv2D"/> with prepared filters: symmetric padding goes to the
/// kernel as is; asymmetric or SAME_* padding first makes a zero-padded copy of the input (step scratch). Filters are
/// prepared once per algorithm a plan picks (Winograd-transformed, or packed for direct and im2col). With groups, each
/// group's filters are prepared apart and every (image, group) pair is one call on its channels' contiguous slice.
/// </summary>
internal sealed class ConvOp : Op
{
    private readonly float[] _weights, _bias;
    private readonly Shape4 _ws; // one group's filters: (F / group, C / group, HH, WW)
    private readonly int _groups;
    private readonly Window _window;
    // Prepared forms by algorithm and padding (prepared filters carry their Conv2DParams; SAME_* padding differs
    // between planes), made when a plan first needs one: planning is serialized by the model.
    private readonly Dictionary<(Conv2DAlgorithm, Conv2DParams), PreparedConv2DFilters[]> _prepared = [];

    private ConvOp(OpContext c, float[] weights, Shape4 ws, int groups, float[] bias, Window window) : base(c.Node, [c.Input(0)], c.SupportedOutputs(1))
    {
        (_weights, _ws, _groups, _bias, _window) = (weights, ws, groups, bias, window);
    }

    public static Op Create(OpContext c)
    {
        NodeAttributes a = c.Attributes;
        a.OnlyKnown("auto_pad", "dilations", "group", "kernel_shape", "pads", "strides");
        c.Arity(2, 3);
        if (a.Ints("dilations") is { } d && d.Any(v => v != 1)) throw a.Unsupported("dilations", $"= [{string.Join(",", d)}]");
        float[] weights = c.ConstantFloats(1, "W");
        ConstantTensor w = c.Constant(1)!;
        if (w.Dims.Length != 4) throw c.Unsupported($"W has rank {w.Dims.Length}; only 2-D convolution (4-D W) is supported");
        if (Array.Exists(w.Dims, d => d < 1)) throw c.Malformed($"W {Format(w.Dims)} has a zero dimension");
        long groups = a.Int("group", 1);
        if (groups < 1 || groups > w.Dims[0] || w.Dims[0] % groups != 0) throw c.Malformed($"group {groups} does not divide W's {w.Dims[0]} filters");
        var ws = new Shape4(w.Dims[0] / (int)groups, w.Dims[1], w.Dims[2], w.Dims[3]);
        if (a.Ints("kernel_shape") is { } k && (k.Length != 2 || k[0] != ws.H || k[1] != ws.W))
            throw c.Malformed($"kernel_shape [{string.Join(",", k)}] differs from W's {ws.H}x{ws.W}");
        float[] bias = c.Input(2) >= 0 ? c.ConstantFloats(2, "B") : new float[w.Dims[0]];
        if (bias.Length != w.Dims[0]) throw c.Malformed($"B has {bias.Length} values but W has {w.Dims[0]} filters");
        return new ConvOp(c, weights, ws, (int)groups, bias, Window.Read(c, "padding a plane by 2^29 or more"));
    }

    public override Step Plan(PlanContext p)
    {
        int[] x = Float(p, 0, "X", 4);
        if (x[1] != (long)_ws.C * _groups) throw Invalid($"W has {_ws.C} input channels per group ({_groups} groups) but X {Format(x)} has {x[1]}");
        (AxisPads h, AxisPads w) = _window.Resolve(x[2], x[3], _ws.H, _ws.W);
        long ph = h.Padded(x[2]), pw = w.Padded(x[3]);
        if (ph < _ws.H || pw < _ws.W) throw Invalid($"the {_ws.H}x{_ws.W} kernel does not fit the padded input ({x[0]},{x[1]},{ph},{pw})");
        bool symmetric = h.Begin == h.End && w.Begin == w.End && h.Begin == w.Begin;
        if (!symmetric && (ph > int.MaxValue || pw > int.MaxValue || Sizes.Elements([x[0], x[1], (int)ph, (int)pw]) > Array.MaxLength))
            throw Invalid($"the padded copy ({x[0]},{x[1]},{ph},{pw}) of X is more than one buffer can hold");
        if (symmetric && (ph > int.MaxValue || pw > int.MaxValue)) throw Invalid($"the padded input ({x[0]},{x[1]},{ph},{pw}) is longer than 2^31 on an axis");
        // With symmetric padding the kernel pads a copy of each image in its own scratch: charged like ours, so a
        // padding far beyond the image is refused here rather than by the kernel's scratch check at run time.
        if (symmetric && h.Begin > 0) p.Charge(Sizes.Product(Sizes.Product(x[1], ph), pw), Node, $"the padded copy of one image ({x[1]},{ph},{pw})");
        var padded = symmetric ? default : new Shape4(x[0], x[1], (int)ph, (int)pw);
        var parameters = new Conv2DParams(_window.Stride, symmetric ? h.Begin : 0);
        Shape4 input = symmetric ? new Shape4(1, _ws.C, x[2], x[3]) : new Shape4(1, _ws.C, padded.H, padded.W); // one image, one group
        long outH = (input.H + 2L * parameters.Pad - _ws.H) / parameters.Stride + 1, outW = (input.W + 2L * parameters.Pad - _ws.W) / parameters.Stride + 1;
        p.Define(Output, [x[0], _ws.N * _groups, (int)outH, (int)outW], Node);
        // Ungrouped, the whole batch is one call; the choice sees it (a batch changes im2col's and Winograd's sizes).
        Conv2DAlgorithm algorithm = Conv2D.Choose(_groups == 1 ? new Shape4(x[0], input.C, input.H, input.W) : input, _ws, parameters);
        if (!_prepared.TryGetValue((algorithm, parameters), out PreparedConv2DFilters[]? filters))
        {
            filters = new PreparedConv2DFilters[_groups];
            int per = (int)_ws.Length;
            for (int g = 0; g < _groups; g++)
                filters[g] = Conv2D.Prepare(new ReadOnlyNchwSpan<float>(_weights.AsSpan(g * per, per), _ws), _bias.AsSpan(g * _ws.N, _ws.N), parameters, algorithm);
            _prepared[(algorithm, parameters)] = filters;
        }
        return new ConvStep(this, filters, symmetric ? null : (padded, h.Begin, w.Begin));
    }

    private sealed class ConvStep(ConvOp op, PreparedConv2DFilters[] filters, (Shape4 Shape, int Top, int Left)? padded) : Step
    {
        public override long ScratchFloats => padded?.Shape.Length ?? 0;

        public override string Detail =>
            $"{filters[0].Algorithm}{(filters.Length > 1 ? $" x {filters.Length} groups" : "")}{(padded is null ? "" : ", padded copy")}";

        public override void Run(Frame f)
        {
            int[] x = f.Dims(op.Inputs[0]);
            Shape4 ys = As4(f.Dims(op.Output));
            ReadOnlySpan<float> input = f.Read(op.Inputs[0]);
            Shape4 xs = As4(x);
            if (padded is var (shape, top, left))
            {
                Span<float> copy = f.Scratch(shape.Length);
                Padding.Copy(input, x, copy, [shape.N, shape.C, shape.H, shape.W], [0, 0, top, left], 0f);
                input = copy;
                xs = shape;
            }
            if (filters.Length == 1)
            {
                Conv2D.Forward(new ReadOnlyNchwSpan<float>(input, xs), filters[0], new NchwSpan<float>(f.Write(op.Output), ys), f.Degree);
                return;
            }
            // One image's group: its channels are contiguous in NCHW, in x and in y alike.
            var xg = new Shape4(1, xs.C / filters.Length, xs.H, xs.W);
            var yg = new Shape4(1, ys.C / filters.Length, ys.H, ys.W);
            Span<float> output = f.Write(op.Output);
            for (int n = 0; n < xs.N; n++)
                for (int g = 0; g < filters.Length; g++)
                {
                    long at = (long)n * filters.Length + g;
                    Conv2D.Forward(new ReadOnlyNchwSpan<float>(input.Slice((int)(at * xg.Length), (int)xg.Length), xg), filters[g],
                        new NchwSpan<float>(output.Slice((int)(at * yg.Length), (int)yg.Length), yg), f.Degree);
                }
        }
    }
}
