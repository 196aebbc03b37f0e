using System.Text;

namespace Kernels.Benchmarks.Peers;

/// <summary>
/// Builds a one-node ONNX model in memory by writing its protobuf by hand (the ONNX schema's field numbers), so
/// the benchmark needs no model files and no protobuf package. Inputs and outputs are float tensors of fixed shape.
/// </summary>
public static class OnnxModel
{
    public sealed record Attr(string Name, long? Int = null, long[]? Ints = null);

    public static byte[] Build(string opType, (string Name, long[] Shape)[] inputs, (string Name, long[] Shape) output, params Attr[] attributes)
    {
        var node = new Proto();
        foreach (var i in inputs) node.String(1, i.Name);
        node.String(2, output.Name).String(3, "node").String(4, opType);
        foreach (Attr a in attributes)
        {
            var attr = new Proto().String(1, a.Name);
            if (a.Int is long v) attr.Varint(20, 2).Varint(3, (ulong)v);           // type INT, i
            else
            {
                attr.Varint(20, 7);                                               // type INTS
                foreach (long x in a.Ints!) attr.Varint(8, (ulong)x);
            }
            node.Message(5, attr);
        }
        var graph = new Proto().Message(1, node).String(2, "g");
        foreach (var i in inputs) graph.Message(11, ValueInfo(i.Name, i.Shape));
        graph.Message(12, ValueInfo(output.Name, output.Shape));
        return new Proto()
            .Varint(1, 8)                                                          // ir_version
            .String(2, "Kernels.Benchmarks")                                      // producer_name
            .Message(7, graph)
            .Message(8, new Proto().String(1, "").Varint(2, 17))                 // opset_import: default domain, opset 17
            .ToArray();
    }

    private static Proto ValueInfo(string name, long[] shape)
    {
        var dims = new Proto();
        foreach (long d in shape) dims.Message(1, new Proto().Varint(1, (ulong)d)); // Dimension.dim_value
        var tensor = new Proto().Varint(1, 1).Message(2, dims);                     // elem_type FLOAT, shape
        return new Proto().String(1, name).Message(2, new Proto().Message(1, tensor)); // TypeProto.tensor_type
    }

    /// <summary>The protobuf wire format's three cases we need: varint, string and embedded message.</summary>
    private sealed class Proto
    {
        private readonly MemoryStream _bytes = new();

        public Proto Varint(int field, ulong value)
        {
            Key(field, 0);
            Raw(value);
            return this;
        }

        public Proto String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public Proto Message(int field, Proto message) => Bytes(field, message.ToArray());

        public byte[] ToArray() => _bytes.ToArray();

        private Proto Bytes(int field, byte[] value)
        {
            Key(field, 2);
            Raw((ulong)value.Length);
            _bytes.Write(value);
            return this;
        }

        private void Key(int field, int wireType) => Raw((ulong)(field << 3 | wireType));

        private void Raw(ulong v)
        {
            while (v >= 0x80)
            {
                _bytes.WriteByte((byte)(v | 0x80));
                v >>= 7;
            }
            _bytes.WriteByte((byte)v);
        }
    }
}
