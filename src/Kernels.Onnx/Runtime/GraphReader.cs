using Kernels.Onnx.Schema;

namespace Kernels.Onnx.Runtime;

/// <summary>
/// Turns a parsed model into a <see cref="Graph"/>: constants (initializers, Constant nodes, inputs bound by
/// <see cref="OnnxModelOptions.Constants"/>) get their data, runtime inputs their fixed dims and symbols, and every
/// node input is resolved to a value produced earlier (ONNX requires a topological order, so an input not yet
/// produced means a cyclic or unsorted graph). Nothing here depends on a batch size.
/// </summary>
internal static class GraphReader
{
    /// <summary>Default-domain operator sets this runtime reads; each op checks its own attributes per opset.</summary>
    public const int MinOpset = 1, MaxOpset = 21;

    public static Graph Read(ModelMessage model, string source, OnnxModelOptions options)
    {
        GraphMessage message = model.Graph!;
        if (!model.Opsets.TryGetValue("", out long opset)) opset = MinOpset;
        if (opset is < MinOpset or > MaxOpset)
            throw new NotSupportedException($"{source}: the model imports default-domain opset {opset}; this runtime implements " +
                $"opsets {MinOpset}-{MaxOpset}.");
        if (message.SparseInitializers > 0)
            throw new NotSupportedException($"{source}: the graph has {message.SparseInitializers} sparse initializers, which " +
                $"this runtime does not read.");
        var graph = new Graph(source, opset);
        var index = new Dictionary<string, int>();
        var symbols = new Dictionary<string, int>();

        foreach (TensorMessage t in message.Initializers) index[t.Name] = graph.AddValue(t.Name, Constant(t, source,
            $"initializer '{t.Name}'"));
        foreach (ValueInfoMessage input in message.Inputs)
        {
            if (options.Constants is { } bound && bound.TryGetValue(input.Name, out OnnxTensor? tensor))
            {
                index[input.Name] = graph.AddValue(input.Name, Bound(input.Name, tensor)); // replaces an initializer's default
                continue;
            }
            if (index.ContainsKey(input.Name)) continue; // an initializer listed as an input (IR < 4): a constant
            index[input.Name] = graph.AddValue(input.Name);
            graph.Inputs.Add(Input(input, index[input.Name], graph, symbols, options.MaxActivationFloats));
        }
        for (int i = 0; i < message.Nodes.Count; i++) AddNode(graph, message.Nodes[i], i, index);
        foreach (ValueInfoMessage output in message.Outputs)
        {
            if (!index.TryGetValue(output.Name, out int value))
                throw new InvalidDataException($"{source}: graph output '{output.Name}' is not produced by any node.");
            if (graph.Constants[value] is not null) throw new NotSupportedException($"{source}: graph output '{output.Name}' is " +
                $"a constant.");
            graph.Outputs.Add((output.Name, value));
        }
        return graph;
    }

    /// <summary>A runtime input: float, a known rank, at most one symbolic dimension (the run's length gives its size).</summary>
    private static GraphInput Input(ValueInfoMessage input, int value, Graph graph, Dictionary<string, int> symbols, long cap)
    {
        string what = $"{graph.Source}: input '{input.Name}'";
        if (input.ElemType != (int)ElementType.Float)
            throw new NotSupportedException($"{what} has element type {input.ElemType}; only float (1) inputs are supported.");
        if (input.Dims is not long[] dims) throw new NotSupportedException($"{what} has no shape; a known rank is needed.");
        var fixedDims = new int[dims.Length];
        var symbolOf = new int[dims.Length];
        long per = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            symbolOf[i] = -1;
            if (input.DimNames[i] is null && dims[i] >= 0)
            {
                if (dims[i] > int.MaxValue) throw new InvalidDataException($"{what} dimension {i} is {dims[i]}, more than a " +
                    $"buffer can hold.");
                fixedDims[i] = (int)dims[i];
                per = Sizes.Product(per, fixedDims[i]);
                continue;
            }
            string name = input.DimNames[i] ?? $"?{input.Name}[{i}]";
            if (!symbols.TryGetValue(name, out int symbol))
            {
                symbol = symbols[name] = graph.SymbolNames.Count;
                graph.SymbolNames.Add(name);
            }
            symbolOf[i] = symbol;
        }
        int symbolic = symbolOf.Count(s => s >= 0);
        if (symbolic > 1)
            throw new NotSupportedException($"{what} has {symbolic} symbolic dimensions " +
                $"{Op.Format(input.DimNames.Select((n, i) => n ?? dims[i].ToString()).ToArray())}; one is supported (the run's " +
                    $"length gives its size).");
        // The product is clamped, not wrapped: a shape whose elements pass 2^63 must not look small (2^64 + 11936 floats).
        if (per > cap) throw new InvalidDataException($"{what}: {Op.Format(dims)} holds " +
            $"{(per == long.MaxValue ? "2^63 or more" : per)} floats per sample, above OnnxModelOptions.MaxActivationFloats ({cap}).");
        if (symbolic == 1 && per == 0)
            throw new NotSupportedException($"{what} {Op.Format(dims)} has a zero dimension beside its symbolic one, so its " +
                $"length cannot give the symbol's size.");
        return new GraphInput(input.Name, value, fixedDims, symbolOf);
    }

    private static void AddNode(Graph graph, NodeMessage n, int position, Dictionary<string, int> index)
    {
        string node = $"{graph.Source}: {n.Describe(position)} (offset {n.Offset})";
        if (n.Domain is not ("" or "ai.onnx")) throw new NotSupportedException($"{node}: domain '{n.Domain}' is not supported " +
            $"(only the default ONNX domain).");
        var attributes = new NodeAttributes(n, node);
        int[] inputs = n.Inputs.Select(name => name.Length == 0 ? -1 : index.TryGetValue(name, out int i) ? i
            : throw new InvalidDataException($"{node}: input '{name}' is not produced by an earlier node or initializer (the " +
                $"graph is cyclic, unsorted or incomplete).")).ToArray();
        if (n.Outputs.Count == 0 || n.Outputs[0].Length == 0) throw new InvalidDataException($"{node} has no output.");
        foreach (string output in n.Outputs)
            if (output.Length > 0 && index.ContainsKey(output)) throw new InvalidDataException($"{node}: output '{output}' is " +
                $"produced twice.");
        if (n.OpType == "Constant")
        {
            if (n.Outputs.Count != 1) throw new InvalidDataException($"{node} has {n.Outputs.Count} outputs but a Constant has one.");
            index[n.Outputs[0]] = graph.AddValue(n.Outputs[0], ConstantValue(attributes, node, graph.Source));
            return;
        }
        int[] outputs = n.Outputs.Select(name => name.Length == 0 ? -1 : index[name] = graph.AddValue(name)).ToArray();
        graph.Nodes.Add(new Node(n.OpType, n.Name.Length > 0 ? n.Name : $"#{position}", node, attributes, inputs, outputs));
    }

    private static ConstantTensor ConstantValue(NodeAttributes a, string node, string source)
    {
        if (a.Tensor("value") is { } t) return Constant(t, source, $"{node} value");
        if (a.Has("value_float")) return new([], [a.Float("value_float", 0)], null);
        if (a.Floats("value_floats") is { } fs) return new([fs.Length], fs, null);
        if (a.Has("value_int")) return new([], null, [a.Int("value_int", 0)]);
        if (a.Ints("value_ints") is { } ls) return new([ls.Length], null, ls);
        throw new NotSupportedException($"{node}: only value, value_float(s) and value_int(s) Constants are supported.");
    }

    public static ConstantTensor Constant(TensorMessage t, string source, string what)
    {
        if (t.External)
            throw new NotSupportedException($"{source}: {what} keeps its data in an external file; save the model with its " +
                $"weights inside (onnx.save(..., save_as_external_data=False)).");
        if (t.Floats is null && t.Int64s is null)
            throw new NotSupportedException($"{source}: offset {t.Offset}: {what} has data type {t.DataType}; only float (1), " +
                $"int32 (6) and int64 (7) constants are supported.");
        if (t.Dims.Any(d => d > int.MaxValue)) throw new InvalidDataException($"{source}: offset {t.Offset}: {what} has a " +
            $"dimension above 2^31.");
        return new(t.Dims.Select(d => (int)d).ToArray(), t.Floats, t.Int64s);
    }

    /// <summary>An input bound by the caller: checked like an argument (<see cref="ArgumentException"/> naming the entry).</summary>
    private static ConstantTensor Bound(string name, OnnxTensor? t)
    {
        string entry = $"options.Constants['{name}']";
        if (t is null) throw new ArgumentException($"{entry} is null.", "options");
        if (t.Dims is null) throw new ArgumentException($"{entry} has no Dims (null); give the tensor's dims, [] for a scalar.", "options");
        long count = 1;
        foreach (int d in t.Dims)
        {
            if (d < 0) throw new ArgumentException($"{entry} has a negative dimension {d} in {Op.Format(t.Dims)}.", "options");
            if (d != 0 && count > Array.MaxLength / d)
                throw new ArgumentException($"{entry} dims {Op.Format(t.Dims)} hold more than {Array.MaxLength} values, more " +
                    $"than an array can.", "options");
            count *= d;
        }
        long held = t.Floats?.LongLength ?? t.Int64s?.LongLength ?? -1;
        if ((t.Floats is null) == (t.Int64s is null) || held != count)
            throw new ArgumentException($"{entry} must hold exactly one of Floats and Int64s with {count} values for dims " +
                $"{Op.Format(t.Dims)}, but holds {held}.", "options");
        // Copied: the caller may reuse its arrays after Load.
        return new((int[])t.Dims.Clone(), (float[]?)t.Floats?.Clone(), (long[]?)t.Int64s?.Clone());
    }
}
