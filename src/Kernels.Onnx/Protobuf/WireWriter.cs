using System.Buffers.Binary;
using System.Text;

namespace Kernels.Onnx.Protobuf;

/// <summary>
/// Writes one protobuf message: the wire format's varint, fixed32 and length-delimited cases, which are all ONNX
/// needs. An embedded message is written by a writer of its own and copied in with its length.
/// </summary>
internal sealed class WireWriter
{
    private readonly MemoryStream _bytes = new();

    public WireWriter Varint(int field, ulong value)
    {
        Key(field, WireType.Varint);
        Raw(value);
        return this;
    }

    /// <summary>An int64 or int32 field (negative values take ten bytes, as protobuf encodes them).</summary>
    public WireWriter Int64(int field, long value) => Varint(field, (ulong)value);

    public WireWriter Float(int field, float value)
    {
        Key(field, WireType.Fixed32);
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(b, value);
        _bytes.Write(b);
        return this;
    }

    public WireWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public WireWriter Message(int field, WireWriter message) => Bytes(field, message.ToArray());

    public WireWriter Bytes(int field, ReadOnlySpan<byte> value)
    {
        Key(field, WireType.Len);
        Raw((ulong)value.Length);
        _bytes.Write(value);
        return this;
    }

    /// <summary>A packed repeated int64 field.</summary>
    public WireWriter Int64s(int field, ReadOnlySpan<long> values)
    {
        var packed = new WireWriter();
        foreach (long v in values) packed.Raw((ulong)v);
        return Message(field, packed);
    }

    /// <summary>Little-endian floats as one length-delimited field (a packed repeated float, or raw_data).</summary>
    public WireWriter FloatBytes(int field, ReadOnlySpan<float> values)
    {
        byte[] bytes = new byte[checked(values.Length * 4)];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        return Bytes(field, bytes);
    }

    public byte[] ToArray() => _bytes.ToArray();

    private void Key(int field, WireType type) => Raw((ulong)field << 3 | (ulong)type);

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
