using System.Buffers.Binary;
using System.IO.Compression;

namespace Kernels.Data;

/// <summary>
/// Reader of the IDX format of MNIST (<c>*-idx3-ubyte</c> images, <c>*-idx1-ubyte</c> labels), plain or gzip
/// (detected by its magic bytes). Header: two zero bytes, type 0x08 (unsigned byte), the number of dimensions,
/// then each dimension as a big-endian int32; then the bytes, row-major. Truncated or malformed input throws
/// <see cref="InvalidDataException"/> naming the file and the offset (in the decompressed stream for gzip).
/// Memory grows with the data actually read, never with what a header merely declares.
/// </summary>
public static class Idx
{
    /// <summary>Reads an IDX file: its dimensions and its bytes.</summary>
    public static (int[] Dims, byte[] Data) Read(string path)
    {
        using FileStream file = File.OpenRead(path);
        return Read(file, path);
    }

    /// <summary>Reads IDX content from a stream; <paramref name="name"/> names it in errors.</summary>
    public static (int[] Dims, byte[] Data) Read(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var buffered = new BufferedStream(stream);
        Span<byte> magic = stackalloc byte[2];
        int got = buffered.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        Stream source = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b
            ? new GZipStream(new Rewound(magic[..got].ToArray(), buffered), CompressionMode.Decompress)
            : new Rewound(magic[..got].ToArray(), buffered);
        try
        {
            return ReadIdx(source, name);
        }
        catch (InvalidDataException ex) when (!ex.Message.StartsWith(name, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{name}: corrupt gzip stream ({ex.Message})", ex);
        }
    }

    private static (int[] Dims, byte[] Data) ReadIdx(Stream s, string name)
    {
        Span<byte> head = stackalloc byte[4];
        ReadExactly(s, head, name, 0, "the 4-byte IDX magic");
        if (head[0] != 0 || head[1] != 0) throw Bad(name, 0, $"magic bytes {head[0]:X2} {head[1]:X2} are not 00 00; not an IDX file");
        if (head[2] != 0x08) throw Bad(name, 2, $"element type 0x{head[2]:X2} is not 0x08 (unsigned byte)");
        int rank = head[3];
        if (rank is < 1 or > 4) throw Bad(name, 3, $"rank {rank} is not in [1, 4]");
        var dims = new int[rank];
        long count = 1;
        Span<byte> word = stackalloc byte[4];
        for (int i = 0; i < rank; i++)
        {
            ReadExactly(s, word, name, 4 + 4 * i, $"dimension {i}");
            uint d = BinaryPrimitives.ReadUInt32BigEndian(word);
            if (d == 0 || d > int.MaxValue) throw Bad(name, 4 + 4 * i, $"dimension {i} is {d}; it must be in [1, {int.MaxValue}]");
            dims[i] = (int)d;
            count *= d;
            if (count > Array.MaxLength) throw Bad(name, 4 + 4 * i, $"the dimensions declare {count} or more elements, more than an array holds");
        }
        long offset = 4 + 4L * rank;
        byte[] data = ReadPayload(s, (int)count, name, offset);
        if (s.ReadByte() >= 0) throw Bad(name, offset + count, $"data continues past the {count} bytes the header declares");
        return (dims, data);
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes, growing the buffer by doubling as data arrives.</summary>
    private static byte[] ReadPayload(Stream s, int count, string name, long offset)
    {
        byte[] data = new byte[Math.Min(count, 1 << 16)];
        int filled = 0;
        while (filled < count)
        {
            if (filled == data.Length) Array.Resize(ref data, (int)Math.Min(count, 2L * data.Length));
            int n = s.Read(data, filled, data.Length - filled);
            if (n == 0) throw Bad(name, offset + filled, $"file ends after {filled} of the {count} data bytes the header declares");
            filled += n;
        }
        return data;
    }

    private static void ReadExactly(Stream s, Span<byte> buffer, string name, long offset, string what)
    {
        int got = s.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (got < buffer.Length) throw Bad(name, offset + got, $"file ends inside {what}");
    }

    internal static InvalidDataException Bad(string name, long offset, string message) => new($"{name}: at offset {offset}: {message}.");

    /// <summary>A stream that first replays a few bytes already read (the sniffed magic), then the rest.</summary>
    private sealed class Rewound(byte[] prefix, Stream rest) : Stream
    {
        private int _position;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override int Read(Span<byte> buffer)
        {
            if (_position < prefix.Length && buffer.Length > 0)
            {
                int n = Math.Min(buffer.Length, prefix.Length - _position);
                prefix.AsSpan(_position, n).CopyTo(buffer);
                _position += n;
                return n;
            }
            return rest.Read(buffer);
        }
    }
}
