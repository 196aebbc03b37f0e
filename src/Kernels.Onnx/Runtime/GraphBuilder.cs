using Kernels.Onnx.Runtime.Ops;
using Kernels.Onnx.Schema;

namespace Kernels.Onnx.Runtime;

/// <summary>
/// Turns a parsed graph into ops over numbered values, in the file's node order (ONNX requires a topological order,
/// so an input not yet produced means a cyclic or unsorted graph). Constants are folded as they come: initializers,
/// Constant nodes, Reshape's shape and Pad's pads; a BatchNormalization whose input is a Conv's output used nowhere
/// else is folded into that Conv's filters and bias.
/// </summary>
internal sealed class GraphBuilder
{
    /// <summary>
    /// Default-domain operator sets this runtime reads. Before opset 7 some ops had other attributes (Reshape's shape,
    /// Pad's paddings, BatchNormalization's consumed_inputs); each op refuses attributes it does not know, so such a
    /// model is refused by name rather than misread.
    /// </summary>
    public const int MinOpset = 1, MaxOpset = 21;

    private readonly string _source;
    private readonly long _opset;
    private readonly Dictionary<string, int> _index = [];
    private readonly Dictionary<string, int> _uses = [];
    private readonly HashSet<string> _graphOutputs;
    private readonly Dictionary<int, ConvOp> _convByOutput = [];

    public List<Op> Ops { get; } = [];
    public List<int[]?> ConstantDims { get; } = [];
    public List<float[]?> ConstantFloats { get; } = [];
    public List<long[]?> ConstantInts { get; } = [];
    public List<(string Name, int Index, int[] Dims)> Inputs { get; } = [];
    public List<(string Name, int Index)> Outputs { get; } = [];

    public GraphBuilder(ModelMessage model, string source, IReadOnlyDictionary<string, OnnxTensor>? constants = null)
    {
        _source = source;
        GraphMessage graph = model.Graph!;
        if (!model.Opsets.TryGetValue("", out _opset)) _opset = MinOpset;
        if (_opset is < MinOpset or > MaxOpset)
            throw new NotSupportedException($"{source}: the model imports default-domain opset {_opset}; this runtime implements opsets {MinOpset}-{MaxOpset}.");
        foreach (NodeMessage n in graph.Nodes)
            foreach (string input in n.Inputs) _uses[input] = _uses.GetValueOrDefault(input) + 1;
        _graphOutputs = [.. graph.Outputs.Select(o => o.Name)];

        foreach (TensorMessage t in graph.Initializers) AddConstant(t.Name, Tensor(t, $"initializer '{t.Name}'"));
        foreach (ValueInfoMessage input in graph.Inputs)
        {
            if (constants is not null && constants.TryGetValue(input.Name, out OnnxTensor? bound))
            {
                if (_index.ContainsKey(input.Name)) _index.Remove(input.Name); // the binding replaces an initializer's default
                AddConstant(input.Name, Bound(input.Name, bound));
                continue;
            }
            if (_index.ContainsKey(input.Name)) continue; // an initializer listed as an input (IR < 4): a constant
            if (input.ElemType != 1) throw new NotSupportedException($"{source}: input '{input.Name}' has element type {input.ElemType}; only float (1) inputs are supported.");
            if (input.Dims is null) throw new NotSupportedException($"{source}: input '{input.Name}' has no shape; a static shape (batch may be symbolic) is needed.");
            for (int i = 1; i < input.Dims.Length; i++)
                if (input.Dims[i] is < 1 or > int.MaxValue)
                    throw new NotSupportedException($"{source}: input '{input.Name}' dimension {i} is {(input.DimNames[i] ?? input.Dims[i].ToString())}; only the first (batch) dimension may be symbolic.");
            if (input.Dims.Length == 0) throw new NotSupportedException($"{source}: input '{input.Name}' is a scalar.");
            int[] dims = input.Dims.Select(d => d is < 1 or > int.MaxValue ? -1 : (int)d).ToArray();
            Inputs.Add((input.Name, Add(input.Name), dims));
        }
        for (int i = 0; i < graph.Nodes.Count; i++) Build(graph.Nodes[i], i);
        foreach (ValueInfoMessage output in graph.Outputs)
        {
            if (!_index.TryGetValue(output.Name, out int index)) throw new InvalidDataException($"{source}: graph output '{output.Name}' is not produced by any node.");
            if (ConstantDims[index] is not null) throw new NotSupportedException($"{source}: graph output '{output.Name}' is a constant.");
            Outputs.Add((output.Name, index));
        }
    }

    public int ValueCount => ConstantDims.Count;

    /// <summary>The file's name (or "stream", "bytes"), which every message names first.</summary>
    public string Source => _source;

    private int Add(string name)
    {
        int index = ConstantDims.Count;
        _index[name] = index;
        ConstantDims.Add(null);
        ConstantFloats.Add(null);
        ConstantInts.Add(null);
        return index;
    }

    private void AddConstant(string name, (int[] Dims, float[]? Floats, long[]? Ints) t)
    {
        int index = Add(name);
        (ConstantDims[index], ConstantFloats[index], ConstantInts[index]) = (t.Dims, t.Floats, t.Ints);
    }

    private static (int[] Dims, float[]? Floats, long[]? Ints) Bound(string name, OnnxTensor t)
    {
        ArgumentNullException.ThrowIfNull(t, $"options.Constants[{name}]");
        long count = 1;
        foreach (int d in t.Dims)
        {
            if (d < 0) throw new ArgumentException($"options.Constants['{name}'] has a negative dimension {d}.", "options");
            count *= d;
        }
        long held = t.Floats?.LongLength ?? t.Int64s?.LongLength ?? -1;
        if ((t.Floats is null) == (t.Int64s is null) || held != count)
            throw new ArgumentException($"options.Constants['{name}'] must hold exactly one of Floats and Int64s with {count} values for dims {Op.Format(t.Dims)}, but holds {held}.", "options");
        return ((int[])t.Dims.Clone(), t.Floats, t.Int64s);
    }

    private (int[] Dims, float[]? Floats, long[]? Ints) Tensor(TensorMessage t, string what)
    {
        if (t.External) throw new NotSupportedException($"{_source}: {what} keeps its data in an external file; save the model with its weights inside (onnx.save(..., save_as_external_data=False)).");
        if (t.Floats is null && t.Int64s is null)
            throw new NotSupportedException($"{_source}: offset {t.Offset}: {what} has data type {t.DataType}; only float (1), int32 (6) and int64 (7) constants are supported.");
        if (t.Dims.Any(d => d > int.MaxValue)) throw new InvalidDataException($"{_source}: offset {t.Offset}: {what} has a dimension above 2^31.");
        return (t.Dims.Select(d => (int)d).ToArray(), t.Floats, t.Int64s);
    }

    private void Build(NodeMessage n, int position)
    {
        // Every message about the node names the file, the node and where it starts: "model.onnx: Conv node 'conv1' (offset 812): ...".
        string node = $"{_source}: {n.Describe(position)} (offset {n.Offset})";
        if (n.Domain is not ("" or "ai.onnx")) throw new NotSupportedException($"{node}: domain '{n.Domain}' is not supported (only the default ONNX domain).");
        var attributes = new NodeAttributes(n, node);
        int[] inputs = n.Inputs.Select(name => name.Length == 0 ? -1 : _index.TryGetValue(name, out int i) ? i
            : throw new InvalidDataException($"{node}: input '{name}' is not produced by an earlier node or initializer (the graph is cyclic, unsorted or incomplete).")).ToArray();
        if (n.Outputs.Count == 0 || n.Outputs[0].Length == 0) throw new InvalidDataException($"{node} has no output.");
        for (int i = 1; i < n.Outputs.Count; i++)
            if (n.Outputs[i].Length > 0 && (_uses.ContainsKey(n.Outputs[i]) || _graphOutputs.Contains(n.Outputs[i])))
                throw new NotSupportedException($"{node}: output {i} ('{n.Outputs[i]}') is used; only the first output is supported.");
        if (_index.ContainsKey(n.Outputs[0])) throw new InvalidDataException($"{node}: output '{n.Outputs[0]}' is produced twice.");

        if (n.OpType == "Constant")
        {
            AddConstant(n.Outputs[0], ConstantValue(attributes, node));
            return;
        }
        Need(inputs, node, n.OpType switch
        {
            "Gemm" or "Conv" or "Add" or "MatMul" or "Reshape" => 2,
            "BatchNormalization" => 5,
            _ => 1,
        });
        Op? op = n.OpType switch
        {
            "Conv" => Conv(n, attributes, node, inputs),
            "Relu" => new ReluOp(node, Activation(inputs[0], node, "X"), Add(n.Outputs[0])),
            "MaxPool" => Pool(n, attributes, node, inputs, max: true, global: false),
            "AveragePool" => Pool(n, attributes, node, inputs, max: false, global: false),
            "GlobalAveragePool" => Pool(n, attributes, node, inputs, max: false, global: true),
            "Flatten" => ViewOp.Flatten(node, Activation(inputs[0], node, "X"), Add(n.Outputs[0]), attributes.Int("axis", 1)),
            "Reshape" => Reshape(n, attributes, node, inputs),
            "Identity" => ViewOp.Identity(node, Activation(inputs[0], node, "X"), Add(n.Outputs[0])),
            "Dropout" => ViewOp.Identity(node, Activation(inputs[0], node, "X"), Add(n.Outputs[0])), // inference
            "Gemm" => Gemm(n, attributes, node, inputs),
            "MatMul" => new GemmOp(node, Activation(inputs[0], node, "A"), Activation(inputs[1], node, "B"), -1, Add(n.Outputs[0]), false, false, 1f, 0f, matMul: true),
            "Add" => new AddOp(node, Activation(inputs[0], node, "A"), Activation(inputs[1], node, "B"), Add(n.Outputs[0])),
            "BatchNormalization" => BatchNorm(n, attributes, node, inputs),
            "Softmax" => new SoftmaxOp(node, Activation(inputs[0], node, "X"), Add(n.Outputs[0]), attributes.Int("axis", _opset >= 13 ? -1 : 1), flattenRows: _opset < 13),
            "Concat" => new ConcatOp(node, inputs.Select((i, k) => Activation(i, node, $"input {k}")).ToArray(), Add(n.Outputs[0]), attributes.Has("axis") ? attributes.Int("axis", 1) : throw attributes.Malformed("Concat needs the attribute axis")),
            "Pad" => PadNode(n, attributes, node, inputs),
            _ => throw new NotSupportedException($"{node}: op type {n.OpType} is not supported (docs/api.md lists the supported ops)."),
        };
        if (op is not null) Ops.Add(op);
    }

    private void Need(int[] inputs, string node, int count)
    {
        if (inputs.Length < count || Array.IndexOf(inputs, -1, 0, count) >= 0)
            throw new InvalidDataException($"{node} has {inputs.Count(i => i >= 0)} of the {count} inputs it needs.");
    }

    /// <summary>A required input that Need has not covered (an optional position given as "").</summary>
    private int Activation(int index, string node, string name) =>
        index >= 0 ? index : throw new InvalidDataException($"{node}: input {name} is missing.");

    private float[] ConstantFloatsOf(int index, string node, string name)
    {
        if (index < 0 || ConstantFloats[index] is not float[] f)
            throw new NotSupportedException($"{node}: input {name} must be a float initializer or Constant (computed weights are not supported).");
        return f;
    }

    private long[] ConstantIntsOf(int index, string node, string name)
    {
        if (index < 0 || ConstantInts[index] is not long[] v)
            throw new NotSupportedException($"{node}: input {name} must be an int64 initializer or Constant (a shape computed at run time is not supported).");
        return v;
    }

    private (int[] Dims, float[]? Floats, long[]? Ints) ConstantValue(NodeAttributes a, string node)
    {
        if (a.Tensor("value") is { } t) return Tensor(t, $"{node} value");
        if (a.Has("value_float")) return ([], [a.Float("value_float", 0)], null);
        if (a.Floats("value_floats") is { } fs) return ([fs.Length], fs, null);
        if (a.Has("value_int")) return ([], null, [a.Int("value_int", 0)]);
        if (a.Ints("value_ints") is { } ls) return ([ls.Length], null, ls);
        throw new NotSupportedException($"{node}: only value, value_float(s) and value_int(s) Constants are supported.");
    }

    private Op Conv(NodeMessage n, NodeAttributes a, string node, int[] inputs)
    {
        a.OnlyKnown("auto_pad", "dilations", "group", "kernel_shape", "pads", "strides");
        if (a.Int("group", 1) != 1) throw a.Unsupported("group", $"= {a.Int("group", 1)} (grouped or depthwise convolution)");
        if (a.Ints("dilations") is { } d && d.Any(v => v != 1)) throw a.Unsupported("dilations", $"= [{string.Join(",", d)}]");
        float[] w = (float[])ConstantFloatsOf(inputs[1], node, "W").Clone();
        int[] wd = ConstantDims[inputs[1]]!;
        if (wd.Length != 4) throw new NotSupportedException($"{node}: W has rank {wd.Length}; only 2-D convolution (4-D W) is supported.");
        var ws = new Shape4(wd[0], wd[1], wd[2], wd[3]);
        if (a.Ints("kernel_shape") is { } k && (k.Length != 2 || k[0] != ws.H || k[1] != ws.W))
            throw a.Malformed($"kernel_shape [{string.Join(",", k)}] differs from W's {ws.H}x{ws.W}");
        float[] b = inputs.Length > 2 && inputs[2] >= 0 ? (float[])ConstantFloatsOf(inputs[2], node, "B").Clone() : new float[ws.N];
        if (b.Length != ws.N) throw a.Malformed($"B has {b.Length} values but W has {ws.N} filters");
        (int stride, AxisPads h, AxisPads wp, AutoPad auto) = Window(a, node);
        var op = new ConvOp(node, Activation(inputs[0], node, "X"), Add(n.Outputs[0]), w, ws, b, stride, h, wp, auto);
        _convByOutput[op.Output] = op;
        return op;
    }

    /// <summary>strides (equal on both axes), pads [top, left, bottom, right] and auto_pad of Conv and the pools.</summary>
    private static (int Stride, AxisPads H, AxisPads W, AutoPad Auto) Window(NodeAttributes a, string node)
    {
        long[] strides = a.Ints("strides") ?? [1, 1];
        if (strides.Length != 2) throw new NotSupportedException($"{node}: strides has {strides.Length} values; only 2-D windows are supported.");
        if (strides[0] != strides[1]) throw a.Unsupported("strides", $"= [{strides[0]},{strides[1]}] (different strides per axis)");
        if (strides[0] is < 1 or > int.MaxValue) throw a.Malformed($"strides [{strides[0]},{strides[1]}] must be positive");
        long[] pads = a.Ints("pads") ?? [0, 0, 0, 0];
        if (pads.Length != 4) throw a.Malformed($"pads has {pads.Length} values but a 2-D window needs 4");
        if (pads.Any(p => p is < 0 or > int.MaxValue / 4)) throw a.Unsupported("pads", $"= [{string.Join(",", pads)}] (negative or huge)");
        AutoPad auto = a.String("auto_pad", "NOTSET") switch
        {
            "NOTSET" or "" => AutoPad.NotSet,
            "SAME_UPPER" => AutoPad.SameUpper,
            "SAME_LOWER" => AutoPad.SameLower,
            "VALID" => AutoPad.Valid,
            string other => throw a.Malformed($"auto_pad '{other}' is not NOTSET, SAME_UPPER, SAME_LOWER or VALID"),
        };
        return ((int)strides[0], new AxisPads((int)pads[0], (int)pads[2]), new AxisPads((int)pads[1], (int)pads[3]), auto);
    }

    private Op Pool(NodeMessage n, NodeAttributes a, string node, int[] inputs, bool max, bool global)
    {
        int x = Activation(inputs[0], node, "X");
        if (global)
        {
            a.OnlyKnown();
            return new PoolOp(node, x, Add(n.Outputs[0]), max, 1, 1, 1, default, default, AutoPad.NotSet, false, false, global: true);
        }
        a.OnlyKnown("auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides", "storage_order");
        if (a.Ints("dilations") is { } d && d.Any(v => v != 1)) throw a.Unsupported("dilations", $"= [{string.Join(",", d)}]");
        if (a.Int("storage_order", 0) != 0) throw a.Unsupported("storage_order", "= 1 (column-major indices)");
        long[] k = a.Ints("kernel_shape") ?? throw a.Malformed("kernel_shape is missing");
        if (k.Length != 2) throw new NotSupportedException($"{node}: kernel_shape has {k.Length} values; only 2-D pooling is supported.");
        if (k.Any(v => v is < 1 or > int.MaxValue)) throw a.Malformed($"kernel_shape [{k[0]},{k[1]}] must be positive");
        (int stride, AxisPads h, AxisPads w, AutoPad auto) = Window(a, node);
        return new PoolOp(node, x, Add(n.Outputs[0]), max, (int)k[0], (int)k[1], stride, h, w, auto, a.Int("ceil_mode", 0) != 0,
            a.Int("count_include_pad", 0) != 0, global: false);
    }

    private Op Reshape(NodeMessage n, NodeAttributes a, string node, int[] inputs)
    {
        a.OnlyKnown("allowzero");
        if (a.Int("allowzero", 0) != 0) throw a.Unsupported("allowzero", "= 1");
        long[] shape = ConstantIntsOf(inputs[1], node, "shape");
        return ViewOp.Reshape(node, Activation(inputs[0], node, "data"), Add(n.Outputs[0]), shape);
    }

    private Op Gemm(NodeMessage n, NodeAttributes a, string node, int[] inputs)
    {
        a.OnlyKnown("alpha", "beta", "transA", "transB", "broadcast");
        int c = inputs.Length > 2 ? inputs[2] : -1, b = Activation(inputs[1], node, "B");
        bool transB = a.Int("transB", 0) != 0;
        // A constant B stored transposed (PyTorch's Linear: out x in) is transposed once here: the GEMM packs a
        // row-major B with contiguous copies, a transposed one element by element, on every call.
        if (transB && ConstantFloats[b] is float[] weights && ConstantDims[b] is [int rows, int cols])
        {
            var transposed = new float[weights.Length];
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++) transposed[j * rows + i] = weights[i * cols + j];
            AddConstant($"{n.Inputs[1]}\u0000transposed", ([cols, rows], transposed, null));
            (b, transB) = (ValueCount - 1, false);
        }
        return new GemmOp(node, Activation(inputs[0], node, "A"), b, c, Add(n.Outputs[0]),
            a.Int("transA", 0) != 0, transB, a.Float("alpha", 1f), a.Float("beta", 1f), matMul: false);
    }

    private Op? BatchNorm(NodeMessage n, NodeAttributes a, string node, int[] inputs)
    {
        a.OnlyKnown("epsilon", "momentum", "spatial", "training_mode");
        if (a.Int("training_mode", 0) != 0) throw a.Unsupported("training_mode", "= 1 (inference only)");
        float eps = a.Float("epsilon", 1e-5f);
        float[] gamma = ConstantFloatsOf(inputs[1], node, "scale"), beta = ConstantFloatsOf(inputs[2], node, "B"),
            mean = ConstantFloatsOf(inputs[3], node, "input_mean"), variance = ConstantFloatsOf(inputs[4], node, "input_var");
        int channels = gamma.Length;
        if (beta.Length != channels || mean.Length != channels || variance.Length != channels)
            throw a.Malformed($"scale, B, mean and var have {gamma.Length}, {beta.Length}, {mean.Length} and {variance.Length} values");
        var scale = new float[channels];
        var shift = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            double s = gamma[c] / Math.Sqrt(variance[c] + (double)eps);
            scale[c] = (float)s;
            shift[c] = (float)(beta[c] - mean[c] * s);
        }
        int x = Activation(inputs[0], node, "X");
        // Folded into the Conv that feeds it, when nothing else reads the Conv's output.
        string producedBy = n.Inputs[0];
        if (_convByOutput.TryGetValue(x, out ConvOp? conv) && _uses.GetValueOrDefault(producedBy) == 1 && !_graphOutputs.Contains(producedBy)
            && conv.FilterShape.N == channels)
        {
            conv.Fold(scale, shift);
            _index[n.Outputs[0]] = x;
            return null;
        }
        return new ScaleShiftOp(node, x, Add(n.Outputs[0]), scale, shift);
    }

    private Op PadNode(NodeMessage n, NodeAttributes a, string node, int[] inputs)
    {
        a.OnlyKnown("mode", "pads", "value");
        string mode = a.String("mode", "constant");
        if (mode != "constant") throw a.Unsupported("mode", $"= {mode} (only constant)");
        long[] pads = _opset >= 11 ? ConstantIntsOf(inputs.Length > 1 ? inputs[1] : -1, node, "pads") : a.Ints("pads") ?? throw a.Malformed("pads is missing");
        float value = a.Float("value", 0f);
        if (_opset >= 11 && inputs.Length > 2 && inputs[2] >= 0)
        {
            float[] v = ConstantFloatsOf(inputs[2], node, "constant_value");
            if (v.Length != 1) throw a.Malformed($"constant_value has {v.Length} values");
            value = v[0];
        }
        if (inputs.Length > 3 && inputs[3] >= 0) throw new NotSupportedException($"{node}: the axes input is not supported.");
        return new PadOp(node, Activation(inputs[0], node, "data"), Add(n.Outputs[0]), pads, value);
    }
}
