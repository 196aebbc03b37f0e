namespace Kernels.Onnx.Runtime;

/// <summary>Element types of the values the runtime holds (ONNX TensorProto.DataType codes).</summary>
internal enum ElementType
{
    Float = 1,
    Int64 = 7,
}

/// <summary>A constant of the graph: an initializer, a Constant node, an input bound at load or a folded value.</summary>
/// <param name="Dims">Its dims (every one in [0, int.MaxValue], their product checked at read).</param>
/// <param name="Floats">Float data, row-major; or null.</param>
/// <param name="Ints">Int64 data (int32 and int64 tensors), row-major; or null.</param>
internal sealed record ConstantTensor(int[] Dims, float[]? Floats, long[]? Ints)
{
    public ElementType Type => Floats is null ? ElementType.Int64 : ElementType.Float;

    public long Length => Floats?.LongLength ?? Ints!.LongLength;
}

/// <summary>
/// A runtime input of the graph. Each dimension is either fixed or a symbol (<see cref="Symbols"/>: an index into
/// the graph's symbol table, -1 where fixed); dims with the same dim_param name share a symbol, so a run must give
/// them one value, and every unnamed free dimension is a symbol of its own.
/// </summary>
internal sealed record GraphInput(string Name, int Value, int[] Fixed, int[] Symbols)
{
    /// <summary>Dims as metadata shows them: the fixed ones, -1 for a symbol.</summary>
    public int[] Declared => [.. Fixed.Select((d, i) => Symbols[i] >= 0 ? -1 : d)];

    /// <summary>The position of the input's one symbolic dimension, or -1 when every dimension is fixed.</summary>
    public int SymbolicAxis => Array.FindIndex(Symbols, s => s >= 0);

    /// <summary>Elements of one unit of the symbolic dimension (all dims fixed: the whole input); checked at load.</summary>
    public long PerSymbol
    {
        get
        {
            long n = 1;
            for (int i = 0; i < Fixed.Length; i++)
                if (Symbols[i] < 0) n *= Fixed[i];
            return n;
        }
    }
}

/// <summary>A node of the graph: its op type, attributes, value ids of its inputs (-1: an absent optional one) and outputs.</summary>
internal sealed class Node(string opType, string name, string describe, NodeAttributes attributes, int[] inputs, int[] outputs)
{
    public string OpType { get; } = opType;

    /// <summary>The node's name in the file, or "#position" where it has none.</summary>
    public string Name { get; } = name;

    /// <summary>How every message names it: "model.onnx: Conv node 'conv1' (offset 812)".</summary>
    public string Describe { get; } = describe;

    public NodeAttributes Attributes { get; } = attributes;

    public int[] Inputs { get; } = inputs;

    /// <summary>Value ids of the outputs; -1 for an output the file leaves unnamed.</summary>
    public int[] Outputs { get; } = outputs;
}

/// <summary>
/// The graph as the passes and the planner see it: values by id (a name, and the data where the value is a constant),
/// the nodes in the file's (topological) order, the runtime inputs and the outputs. The passes (Runtime/Passes)
/// rewrite it in place before ops are made.
/// </summary>
internal sealed class Graph(string source, long opset)
{
    /// <summary>The file's name (or "stream", "bytes"), which every message names first.</summary>
    public string Source { get; } = source;

    /// <summary>The default domain's operator set the model imports.</summary>
    public long Opset { get; } = opset;

    public List<string> Names { get; } = [];

    /// <summary>Per value id: its data when it is a constant, else null.</summary>
    public List<ConstantTensor?> Constants { get; } = [];

    public List<Node> Nodes { get; } = [];

    public List<GraphInput> Inputs { get; } = [];

    /// <summary>Graph outputs in the file's order (a value listed twice stays twice, as ONNX Runtime keeps it).</summary>
    public List<(string Name, int Value)> Outputs { get; } = [];

    /// <summary>The name of each symbol (dim_param, or "?" plus the input and axis for an unnamed free dimension).</summary>
    public List<string> SymbolNames { get; } = [];

    public int ValueCount => Names.Count;

    public int AddValue(string name, ConstantTensor? constant = null)
    {
        Names.Add(name);
        Constants.Add(constant);
        return Names.Count - 1;
    }

    /// <summary>How many node inputs and graph outputs read each value.</summary>
    public int[] Readers()
    {
        var readers = new int[ValueCount];
        foreach (Node n in Nodes)
            foreach (int i in n.Inputs)
                if (i >= 0) readers[i]++;
        foreach ((_, int v) in Outputs) readers[v]++;
        return readers;
    }
}
