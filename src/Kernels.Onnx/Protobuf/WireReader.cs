using System.Buffers.Binary;
using System.Text;

namespace Kernels.Onnx.Protobuf;

/// <summary>The protobuf wire types ONNX uses (groups, types 3 and 4, are refused).</summary>
internal enum WireType
{
    Varint = 0,
    Fixed64 = 1,
    Len = 2,
    Fixed32 = 5,
}

/// <summary>
/// A forward-only reader of the protobuf wire format over bytes already in memory. Every length is checked against
/// the bytes that are left before anything is sliced or allocated, so a hostile file can neither read past its end
/// nor make a caller allocate more than the file's own size; every error is an <see cref="InvalidDataException"/>
/// naming the source and the absolute byte offset.
/// </summary>
internal ref struct WireReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly ReadOnlySpan<byte> _data;
    private readonly long _base;
    private int _pos;

    /// <param name="data">The message's bytes.</param>
    /// <param name="source">The file name (or "stream"), for error messages.</param>
    /// <param name="baseOffset">Offset of <paramref name="data"/>[0] in the file.</param>
    public WireReader(ReadOnlySpan<byte> data, string source, long baseOffset = 0)
    {
        _data = data;
        Source = source;
        _base = baseOffset;
    }

    public string Source { get; }

    /// <summary>Offset of the next byte in the file.</summary>
    public readonly long Offset => _base + _pos;

    /// <summary>Reads the next field's key; false at the end of the message.</summary>
    public bool Next(out int field, out WireType type)
    {
        (field, type) = (0, default);
        if (_pos >= _data.Length) return false;
        long at = Offset;
        ulong key = Varint();
        ulong number = key >> 3;
        if (number is 0 or > 536_870_911) throw Error(at, $"field number {number} is outside 1-536870911");
        field = (int)number;
        type = (WireType)(key & 7);
        if (type is not (WireType.Varint or WireType.Fixed64 or WireType.Len or WireType.Fixed32))
            throw Error(at, $"field {field} has wire type {(int)type}, which ONNX does not use");
        return true;
    }

    /// <summary>A base-128 varint of at most 10 bytes.</summary>
    public ulong Varint()
    {
        ulong value = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (_pos >= _data.Length) throw Error(Offset, "the data ends inside a varint");
            byte b = _data[_pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }
        throw Error(Offset - 10, "a varint is longer than 10 bytes");
    }

    /// <summary>An int64 field (two's complement in a varint).</summary>
    public long Int64() => (long)Varint();

    /// <summary>An int32 or enum field: a varint whose value must fit an int.</summary>
    public int Int32(string what)
    {
        long at = Offset, v = (long)Varint();
        if (v is < int.MinValue or > int.MaxValue) throw Error(at, $"{what} is {v}, outside the int32 range");
        return (int)v;
    }

    public uint Fixed32()
    {
        Need(4, "a 4-byte value");
        uint v = BinaryPrimitives.ReadUInt32LittleEndian(_data[_pos..]);
        _pos += 4;
        return v;
    }

    public ulong Fixed64()
    {
        Need(8, "an 8-byte value");
        ulong v = BinaryPrimitives.ReadUInt64LittleEndian(_data[_pos..]);
        _pos += 8;
        return v;
    }

    /// <summary>A length-delimited field's bytes; <paramref name="offset"/> is where they start in the file.</summary>
    public ReadOnlySpan<byte> Bytes(out long offset)
    {
        long at = Offset;
        ulong length = Varint();
        if (length > (ulong)(_data.Length - _pos))
            throw Error(at, $"a field declares {length} bytes but only {_data.Length - _pos} are left");
        offset = Offset;
        ReadOnlySpan<byte> bytes = _data.Slice(_pos, (int)length);
        _pos += (int)length;
        return bytes;
    }

    public string String()
    {
        ReadOnlySpan<byte> bytes = Bytes(out long at);
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Error(at, "a string is not valid UTF-8");
        }
    }

    /// <summary>An embedded message, read by a reader of its own.</summary>
    public WireReader Message()
    {
        ReadOnlySpan<byte> bytes = Bytes(out long at);
        return new WireReader(bytes, Source, at);
    }

    /// <summary>Skips a field the caller does not use.</summary>
    public void Skip(WireType type)
    {
        switch (type)
        {
            case WireType.Varint: Varint(); break;
            case WireType.Fixed64: Need(8, "an 8-byte value"); _pos += 8; break;
            case WireType.Fixed32: Need(4, "a 4-byte value"); _pos += 4; break;
            default: Bytes(out _); break;
        }
    }

    /// <summary>A repeated int64 field, packed (one length-delimited run) or not (one value per key).</summary>
    public void Int64s(WireType type, List<long> into)
    {
        if (type == WireType.Varint)
        {
            into.Add(Int64());
            return;
        }
        Expect(type, WireType.Len, "a repeated integer");
        var packed = Message();
        while (packed._pos < packed._data.Length) into.Add(packed.Int64());
    }

    /// <summary>A repeated float field, packed or not; the packed length must be a multiple of 4.</summary>
    public void Floats(WireType type, List<float> into)
    {
        if (type == WireType.Fixed32)
        {
            into.Add(BitConverter.UInt32BitsToSingle(Fixed32()));
            return;
        }
        Expect(type, WireType.Len, "a repeated float");
        ReadOnlySpan<byte> bytes = Bytes(out long at);
        if (bytes.Length % 4 != 0) throw Error(at, $"a packed float field has {bytes.Length} bytes, not a multiple of 4");
        for (int i = 0; i < bytes.Length; i += 4) into.Add(BinaryPrimitives.ReadSingleLittleEndian(bytes[i..]));
    }

    /// <summary>Throws unless a field has the wire type its schema gives it.</summary>
    public readonly void Expect(WireType actual, WireType expected, string what)
    {
        if (actual != expected) throw Error(Offset, $"{what} has wire type {(int)actual} instead of {(int)expected}");
    }

    public readonly InvalidDataException Error(long offset, string what) => new($"{Source}: offset {offset}: {what}.");

    private readonly void Need(int bytes, string what)
    {
        if (_data.Length - _pos < bytes) throw Error(Offset, $"the data ends inside {what}");
    }
}
