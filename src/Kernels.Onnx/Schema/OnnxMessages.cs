using Kernels.Onnx.Protobuf;

namespace Kernels.Onnx.Schema;

// The parts of onnx.proto (IR version 3-10) that inference reads, with its field numbers. Fields not listed are
// skipped; a field with the wrong wire type is malformed.

/// <summary>ONNX TensorProto.DataType values the runtime meets.</summary>
internal enum OnnxDataType
{
    Undefined = 0,
    Float = 1,
    Int32 = 6,
    Int64 = 7,
    Bool = 9,
    Double = 11,
}

/// <summary>A tensor: an initializer, a Constant's value or a tensor attribute, decoded to floats or int64s.</summary>
internal sealed class TensorMessage
{
    public string Name { get; private set; } = "";
    public long[] Dims { get; private set; } = [];
    public int DataType { get; private set; }
    /// <summary>Offset of the message in the file, for error messages.</summary>
    public long Offset { get; private set; }
    public float[]? Floats { get; private set; }
    public long[]? Int64s { get; private set; }
    public bool External { get; private set; }

    /// <summary>Elements the dims declare (checked not to overflow).</summary>
    public long ElementCount { get; private set; }

    public static TensorMessage Read(WireReader r)
    {
        var t = new TensorMessage { Offset = r.Offset };
        var dims = new List<long>();
        var floats = new List<float>();
        var longs = new List<long>();
        ReadOnlySpan<byte> raw = default;
        bool hasRaw = false;
        while (r.Next(out int field, out WireType type))
        {
            switch (field)
            {
                case 1: r.Int64s(type, dims); break;
                case 2: r.Expect(type, WireType.Varint, "data_type"); t.DataType = r.Int32("data_type"); break;
                case 4: r.Floats(type, floats); break;
                case 5: // int32_data
                case 7: r.Int64s(type, longs); break; // int64_data
                case 8: r.Expect(type, WireType.Len, "name"); t.Name = r.String(); break;
                case 9: r.Expect(type, WireType.Len, "raw_data"); raw = r.Bytes(out _); hasRaw = true; break;
                case 13: r.Skip(type); t.External = true; break;  // external_data
                case 14: r.Expect(type, WireType.Varint, "data_location"); t.External |= r.Int32("data_location") == 1; break;
                default: r.Skip(type); break;
            }
        }
        t.Dims = [.. dims];
        long count = 1;
        foreach (long d in t.Dims)
        {
            if (d < 0) throw r.Error(t.Offset, $"tensor '{t.Name}' has a negative dimension {d}");
            count = d == 0 || count == 0 ? 0 : count > long.MaxValue / d ? throw r.Error(t.Offset, $"tensor '{t.Name}' declares " +
                $"more than 2^63 elements") : count * d;
        }
        t.ElementCount = count;
        if (t.External) return t; // refused by the caller with the tensor's name
        // The data must hold exactly the declared elements: checked before anything of that size is allocated, so
        // a small file cannot declare a huge tensor.
        switch ((OnnxDataType)t.DataType)
        {
            case OnnxDataType.Float:
                long have = hasRaw ? raw.Length / 4 : floats.Count;
                if (hasRaw && raw.Length % 4 != 0 || have != count)
                    throw r.Error(t.Offset, $"float tensor '{t.Name}' declares {count} elements but holds " +
                        $"{(hasRaw ? raw.Length + " raw bytes" : floats.Count + " floats")}");
                t.Floats = hasRaw ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(raw).ToArray() : [.. floats];
                if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw data is little-endian.");
                break;
            case OnnxDataType.Int64:
            case OnnxDataType.Int32:
            case OnnxDataType.Bool: // read as int64 0 and 1: only ever a flag (Dropout's training_mode)
                int size = t.DataType switch { (int)OnnxDataType.Int64 => 8, (int)OnnxDataType.Int32 => 4, _ => 1 };
                long held = hasRaw ? raw.Length / size : longs.Count;
                if (hasRaw && raw.Length % size != 0 || held != count)
                    throw r.Error(t.Offset, $"integer tensor '{t.Name}' declares {count} elements but holds " +
                        $"{(hasRaw ? raw.Length + " raw bytes" : longs.Count + " values")}");
                if (!hasRaw) t.Int64s = [.. longs];
                else if (size == 8) t.Int64s = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(raw).ToArray();
                else if (size == 1) t.Int64s = raw.ToArray().Select(v => (long)v).ToArray();
                else t.Int64s = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(raw).ToArray().Select(v => (long)v).ToArray();
                break;
            default:
                break; // other types load only where an op reads them, which then names the type
        }
        return t;
    }
}

/// <summary>An attribute of a node.</summary>
internal sealed class AttributeMessage
{
    public string Name { get; private set; } = "";
    /// <summary>AttributeProto.AttributeType: 1 FLOAT, 2 INT, 3 STRING, 4 TENSOR, 6 FLOATS, 7 INTS, 8 STRINGS, ...</summary>
    public int Type { get; private set; }
    public float F { get; private set; }
    public long I { get; private set; }
    public string S { get; private set; } = "";
    public TensorMessage? T { get; private set; }
    public List<float> Floats { get; } = [];
    public List<long> Ints { get; } = [];
    public long Offset { get; private set; }

    public static AttributeMessage Read(WireReader r)
    {
        var a = new AttributeMessage { Offset = r.Offset };
        while (r.Next(out int field, out WireType type))
        {
            switch (field)
            {
                case 1: r.Expect(type, WireType.Len, "attribute name"); a.Name = r.String(); break;
                case 2: r.Expect(type, WireType.Fixed32, "attribute f"); a.F = BitConverter.UInt32BitsToSingle(r.Fixed32()); break;
                case 3: r.Expect(type, WireType.Varint, "attribute i"); a.I = r.Int64(); break;
                case 4: r.Expect(type, WireType.Len, "attribute s"); a.S = r.String(); break;
                case 5: r.Expect(type, WireType.Len, "attribute t"); a.T = TensorMessage.Read(r.Message()); break;
                case 7: r.Floats(type, a.Floats); break;
                case 8: r.Int64s(type, a.Ints); break;
                case 20: r.Expect(type, WireType.Varint, "attribute type"); a.Type = r.Int32("attribute type"); break;
                default: r.Skip(type); break;
            }
        }
        return a;
    }
}

/// <summary>A node of the graph.</summary>
internal sealed class NodeMessage
{
    public List<string> Inputs { get; } = [];
    public List<string> Outputs { get; } = [];
    public string Name { get; private set; } = "";
    public string OpType { get; private set; } = "";
    public string Domain { get; private set; } = "";
    public List<AttributeMessage> Attributes { get; } = [];
    public long Offset { get; private set; }

    /// <summary>"Conv 'conv1'" or "Conv (node 3)": how errors name the node.</summary>
    public string Describe(int index) => Name.Length > 0 ? $"{OpType} node '{Name}'" : $"{OpType} node {index}";

    public static NodeMessage Read(WireReader r)
    {
        var n = new NodeMessage { Offset = r.Offset };
        while (r.Next(out int field, out WireType type))
        {
            switch (field)
            {
                case 1: r.Expect(type, WireType.Len, "node input"); n.Inputs.Add(r.String()); break;
                case 2: r.Expect(type, WireType.Len, "node output"); n.Outputs.Add(r.String()); break;
                case 3: r.Expect(type, WireType.Len, "node name"); n.Name = r.String(); break;
                case 4: r.Expect(type, WireType.Len, "op_type"); n.OpType = r.String(); break;
                case 5: r.Expect(type, WireType.Len, "attribute"); n.Attributes.Add(AttributeMessage.Read(r.Message())); break;
                case 7: r.Expect(type, WireType.Len, "domain"); n.Domain = r.String(); break;
                default: r.Skip(type); break;
            }
        }
        return n;
    }
}

/// <summary>A graph input or output: its name, element type and dims (-1 for a named or missing dimension).</summary>
internal sealed class ValueInfoMessage
{
    public string Name { get; private set; } = "";
    public int ElemType { get; private set; }
    public long[]? Dims { get; private set; }
    public string?[] DimNames { get; private set; } = [];

    public static ValueInfoMessage Read(WireReader r)
    {
        var v = new ValueInfoMessage();
        while (r.Next(out int field, out WireType type))
        {
            if (field == 1) { r.Expect(type, WireType.Len, "value name"); v.Name = r.String(); }
            else if (field == 2) { r.Expect(type, WireType.Len, "value type"); v.ReadType(r.Message()); }
            else r.Skip(type);
        }
        return v;
    }

    private void ReadType(WireReader r)
    {
        while (r.Next(out int field, out WireType type))
        {
            if (field != 1) { r.Skip(type); continue; } // sequence, map, ...: not tensors, refused where used
            r.Expect(type, WireType.Len, "tensor_type");
            WireReader t = r.Message();
            while (t.Next(out int f, out WireType ft))
            {
                if (f == 1) { t.Expect(ft, WireType.Varint, "elem_type"); ElemType = t.Int32("elem_type"); }
                else if (f == 2) { t.Expect(ft, WireType.Len, "shape"); ReadShape(t.Message()); }
                else t.Skip(ft);
            }
        }
    }

    private void ReadShape(WireReader r)
    {
        var dims = new List<long>();
        var names = new List<string?>();
        while (r.Next(out int field, out WireType type))
        {
            if (field != 1) { r.Skip(type); continue; }
            r.Expect(type, WireType.Len, "dim");
            WireReader d = r.Message();
            long value = -1;
            string? name = null;
            while (d.Next(out int f, out WireType ft))
            {
                if (f == 1) { d.Expect(ft, WireType.Varint, "dim_value"); value = d.Int64(); }
                else if (f == 2) { d.Expect(ft, WireType.Len, "dim_param"); name = d.String(); }
                else d.Skip(ft);
            }
            dims.Add(value);
            names.Add(name);
        }
        Dims = [.. dims];
        DimNames = [.. names];
    }
}

/// <summary>The model's graph.</summary>
internal sealed class GraphMessage
{
    public List<NodeMessage> Nodes { get; } = [];
    public List<TensorMessage> Initializers { get; } = [];
    public List<ValueInfoMessage> Inputs { get; } = [];
    public List<ValueInfoMessage> Outputs { get; } = [];
    public string Name { get; private set; } = "";
    public int SparseInitializers { get; private set; }

    public static GraphMessage Read(WireReader r)
    {
        var g = new GraphMessage();
        while (r.Next(out int field, out WireType type))
        {
            switch (field)
            {
                case 1: r.Expect(type, WireType.Len, "node"); g.Nodes.Add(NodeMessage.Read(r.Message())); break;
                case 2: r.Expect(type, WireType.Len, "graph name"); g.Name = r.String(); break;
                case 5: r.Expect(type, WireType.Len, "initializer"); g.Initializers.Add(TensorMessage.Read(r.Message())); break;
                case 11: r.Expect(type, WireType.Len, "graph input"); g.Inputs.Add(ValueInfoMessage.Read(r.Message())); break;
                case 12: r.Expect(type, WireType.Len, "graph output"); g.Outputs.Add(ValueInfoMessage.Read(r.Message())); break;
                case 15: r.Skip(type); g.SparseInitializers++; break; // valid ONNX the runtime does not read: refused by name
                default: r.Skip(type); break;
            }
        }
        return g;
    }
}

/// <summary>The model: IR version, operator sets and the graph.</summary>
internal sealed class ModelMessage
{
    public long IrVersion { get; private set; }
    /// <summary>Operator set version per domain ("" is the default ONNX domain).</summary>
    public Dictionary<string, long> Opsets { get; } = [];
    public GraphMessage? Graph { get; private set; }
    public string ProducerName { get; private set; } = "";

    public static ModelMessage Read(ReadOnlySpan<byte> bytes, string source)
    {
        var r = new WireReader(bytes, source);
        var m = new ModelMessage();
        while (r.Next(out int field, out WireType type))
        {
            switch (field)
            {
                case 1: r.Expect(type, WireType.Varint, "ir_version"); m.IrVersion = r.Int64(); break;
                case 2: r.Expect(type, WireType.Len, "producer_name"); m.ProducerName = r.String(); break;
                case 7: r.Expect(type, WireType.Len, "graph"); m.Graph = GraphMessage.Read(r.Message()); break;
                case 8:
                    r.Expect(type, WireType.Len, "opset_import");
                    WireReader o = r.Message();
                    string domain = "";
                    long version = 0;
                    while (o.Next(out int f, out WireType ft))
                    {
                        if (f == 1) { o.Expect(ft, WireType.Len, "opset domain"); domain = o.String(); }
                        else if (f == 2) { o.Expect(ft, WireType.Varint, "opset version"); version = o.Int64(); }
                        else o.Skip(ft);
                    }
                    m.Opsets[domain == "ai.onnx" ? "" : domain] = version;
                    break;
                default: r.Skip(type); break;
            }
        }
        if (m.Graph is null) throw new InvalidDataException($"{source}: offset {bytes.Length}: the model has no graph (field 7); " +
            $"is this an ONNX file?");
        return m;
    }
}
