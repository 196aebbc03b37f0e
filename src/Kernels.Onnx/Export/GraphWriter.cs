using Kernels.Onnx.Protobuf;

namespace Kernels.Onnx.Export;

/// <summary>An attribute of a written node: an int, a list of ints, a float, a string or a tensor.</summary>
internal sealed record NodeAttribute(string Name, long? Int = null, long[]? Ints = null, float? Float = null, string? Text = null,
    OnnxTensor? Tensor = null);

/// <summary>
/// Writes an ONNX model (IR version 8, one default-domain opset) field by field with onnx.proto's numbers: float
/// tensors as raw little-endian data, graph inputs and outputs with fixed dims or the symbolic batch "N" (-1).
/// </summary>
internal sealed class GraphWriter(string producer = "Kernels.Onnx")
{
    private readonly WireWriter _graph = new WireWriter().String(2, "main");
    private int _nodes;

    public GraphWriter Node(string opType, string[] inputs, string output, params NodeAttribute[] attributes) =>
        Node(opType, inputs, [output], attributes);

    /// <summary>A node with several outputs ("" leaves one unnamed).</summary>
    public GraphWriter Node(string opType, string[] inputs, string[] outputs, params NodeAttribute[] attributes)
    {
        var node = new WireWriter();
        foreach (string i in inputs) node.String(1, i);
        foreach (string o in outputs) node.String(2, o);
        node.String(3, $"{opType}_{_nodes++}").String(4, opType);
        foreach (NodeAttribute a in attributes)
        {
            var attr = new WireWriter().String(1, a.Name);
            if (a.Int is long i) attr.Varint(20, 2).Int64(3, i);                 // INT
            else if (a.Ints is long[] ints) attr.Varint(20, 7).Int64s(8, ints);  // INTS
            else if (a.Float is float f) attr.Varint(20, 1).Float(2, f);         // FLOAT
            else if (a.Tensor is OnnxTensor t) attr.Varint(20, 4).Message(5, TensorMessage(t)); // TENSOR
            else attr.Varint(20, 3).String(4, a.Text ?? "");                     // STRING
            node.Message(5, attr);
        }
        _graph.Message(1, node);
        return this;
    }

    public GraphWriter Initializer(string name, long[] dims, ReadOnlySpan<float> values)
    {
        var t = new WireWriter().Int64s(1, dims).Varint(2, 1).String(8, name).FloatBytes(9, values);
        _graph.Message(5, t);
        return this;
    }

    public GraphWriter Initializer(string name, long[] dims, long[] values) =>
        Tensor(name, dims, 7, t => t.Int64s(7, values));

    /// <summary>A float tensor whose dims and data need not agree (for tests of malformed files).</summary>
    public GraphWriter RawInitializer(string name, long[] dims, int dataType, byte[] raw) => Tensor(name, dims, dataType,
        t => t.Bytes(9, raw));

    public GraphWriter Input(string name, params long[] dims) => Value(11, name, dims);

    /// <summary>An input whose dims with a name in <paramref name="symbols"/> are symbolic (dim_param) under that name.</summary>
    public GraphWriter Input(string name, string?[] symbols, params long[] dims) => Value(11, name, dims, symbols);

    public GraphWriter Output(string name, params long[] dims) => Value(12, name, dims);

    public byte[] ToBytes(int opset = 17) => new WireWriter()
        .Varint(1, 8)                                            // ir_version 8 (opsets up to 18)
        .String(2, producer)
        .Message(7, _graph)
        .Message(8, new WireWriter().String(1, "").Varint(2, (ulong)opset))
        .ToArray();

    private static WireWriter TensorMessage(OnnxTensor t)
    {
        var m = new WireWriter().Int64s(1, [.. t.Dims.Select(d => (long)d)]);
        return t.Floats is float[] f ? m.Varint(2, 1).FloatBytes(9, f) : m.Varint(2, 7).Int64s(7, t.Int64s);
    }

    private GraphWriter Tensor(string name, long[] dims, int dataType, Action<WireWriter> data)
    {
        var t = new WireWriter().Int64s(1, dims).Varint(2, (ulong)dataType).String(8, name);
        data(t);
        _graph.Message(5, t);
        return this;
    }

    private GraphWriter Value(int field, string name, long[] dims, string?[]? symbols = null)
    {
        var shape = new WireWriter();
        for (int i = 0; i < dims.Length; i++)
        {
            string? symbol = symbols?[i] ?? (dims[i] < 0 ? "N" : null);
            shape.Message(1, symbol is not null ? new WireWriter().String(2, symbol) : new WireWriter().Int64(1,
                dims[i])); // dim_param or dim_value
        }
        var tensor = new WireWriter().Varint(1, 1).Message(2, shape);                                   // elem_type FLOAT
        _graph.Message(field, new WireWriter().String(1, name).Message(2, new WireWriter().Message(1, tensor)));
        return this;
    }
}
