using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Kernels.Nn;

/// <summary>
/// Checkpoints in the safetensors format, so weights open in other tools: an 8-byte little-endian header length,
/// a UTF-8 JSON header <c>{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}</c>
/// (padded with spaces to 8 bytes), then the raw little-endian tensors.
/// <para>Reading follows the format strictly: valid UTF-8, every key once, a tensor entry holds exactly a known
/// dtype string, a shape of non-negative integers and two integer data_offsets whose span is the shape's byte size,
/// metadata is an object of strings, and the tensors' byte ranges tile the data buffer with no hole, overlap or
/// slack. Any violation throws <see cref="InvalidDataException"/> naming the file and the byte offset, before any
/// parameter is written. Writing refuses what would not read back (duplicate names, a tensor called
/// <c>__metadata__</c>, text that is not valid Unicode) and replaces the target atomically: a crash, a full disk or
/// an exception half way leaves the previous file as it was.</para>
/// </summary>
public static class Safetensors
{
    private const long MaxHeader = 100 << 20; // the reference implementation's limit
    private const string MetadataKey = "__metadata__";

    // The format's dtypes and their sizes in bytes (the reference implementation's list).
    private static readonly Dictionary<string, int> DTypeSizes = new()
    {
        ["BOOL"] = 1, ["U8"] = 1, ["I8"] = 1, ["F8_E5M2"] = 1, ["F8_E4M3"] = 1, ["I16"] = 2, ["U16"] = 2, ["F16"] = 2,
        ["BF16"] = 2, ["I32"] = 4, ["U32"] = 4, ["F32"] = 4, ["I64"] = 8, ["U64"] = 8, ["F64"] = 8,
    };

    /// <summary>
    /// Writes the parameters (F32 for float, F64 for double) with optional string metadata to a temporary file beside
    /// <paramref name="path"/>, flushes it to disk, then renames it over the target (atomic on one file system).
    /// </summary>
    /// <exception cref="ArgumentException">Two parameters share a name, one is called <c>__metadata__</c>, or a name,
    /// key or value is not valid Unicode; nothing is written.</exception>
    public static void Save<T>(string path, IReadOnlyList<Parameter<T>> parameters, IReadOnlyDictionary<string, string>? metadata = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(parameters);
        Parameter<T>[] list = [.. parameters]; // one snapshot: validated and written alike
        byte[] header = Header(list, metadata);
        string full = Path.GetFullPath(path);
        string temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                WriteChecked(file, list, header);
                file.Flush(flushToDisk: true); // the data reaches the disk before the rename makes it the checkpoint
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>
    /// Writes the checkpoint <see cref="Save{T}"/> would write to <paramref name="stream"/> (a download, memory, a
    /// browser without files); the parameters and metadata are checked before the first byte is written.
    /// </summary>
    /// <exception cref="ArgumentException">As for <see cref="Save{T}"/>.</exception>
    public static void Write<T>(Stream stream, IReadOnlyList<Parameter<T>> parameters, IReadOnlyDictionary<string, string>? metadata = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(parameters);
        Parameter<T>[] list = [.. parameters];
        WriteChecked(stream, list, Header(list, metadata));
    }

    private static void WriteChecked<T>(Stream stream, Parameter<T>[] list, byte[] header) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        stream.Write(header);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors data is little-endian.");
        foreach (Parameter<T> p in list) stream.Write(MemoryMarshal.AsBytes(p.Value.AsSpan()));
    }

    /// <summary>The padded JSON header for <paramref name="list"/>, after checking that it will read back.</summary>
    private static byte[] Header<T>(Parameter<T>[] list, IReadOnlyDictionary<string, string>? metadata) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < list.Length; i++)
        {
            if (list[i] is null) Guard.Throw("parameters", $"parameters[{i}] is null.");
            string name = list[i].Name;
            if (name == MetadataKey) Guard.Throw("parameters", $"parameters[{i}] is named {MetadataKey}, which the format reserves for metadata.");
            RequireUnicode(name, "parameters", $"parameters[{i}].Name");
            if (!names.Add(name)) Guard.Throw("parameters", $"parameters[{i}] is named {name}, as an earlier parameter is; names must be unique.");
        }
        foreach (var (k, v) in metadata ?? new Dictionary<string, string>())
        {
            ArgumentNullException.ThrowIfNull(v, nameof(metadata));
            RequireUnicode(k, nameof(metadata), "a metadata key");
            RequireUnicode(v, nameof(metadata), $"metadata[{k}]");
        }

        string dtype = DType<T>();
        var json = new MemoryStream();
        using (var w = new Utf8JsonWriter(json))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject(MetadataKey);
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (Parameter<T> p in list)
            {
                long bytes = (long)p.Value.Length * Marshal.SizeOf<T>();
                w.WriteStartObject(p.Name);
                w.WriteString("dtype", dtype);
                w.WriteStartArray("shape");
                foreach (int d in p.Dims) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + bytes);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += bytes;
            }
            w.WriteEndObject();
        }
        while (json.Length % 8 != 0) json.WriteByte((byte)' ');
        if (json.Length > MaxHeader)
            Guard.Throw("parameters", $"the header would take {json.Length} bytes, more than the format's {MaxHeader}-byte limit.");
        return json.ToArray();
    }

    private static void RequireUnicode(string text, string parameter, string what)
    {
        ArgumentNullException.ThrowIfNull(text, parameter);
        if (!text.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF')) return;
        try { new UTF8Encoding(false, throwOnInvalidBytes: true).GetByteCount(text); }
        catch (EncoderFallbackException) { Guard.Throw(parameter, $"{what} is not valid Unicode (a lone surrogate); it could not be written as UTF-8."); }
    }

    /// <summary>
    /// Loads every parameter by name; the file must hold each one with the same dtype and shape (extra tensors are
    /// an error too). Nothing is written unless the whole file is valid. Returns the metadata.
    /// </summary>
    /// <exception cref="InvalidDataException">The file breaks the format or does not match the parameters; the message names the file and the byte offset.</exception>
    public static IReadOnlyDictionary<string, string> Load<T>(string path, IReadOnlyList<Parameter<T>> parameters)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return Load(File.ReadAllBytes(path), path, parameters);
    }

    /// <summary>
    /// <see cref="Load{T}(string, IReadOnlyList{Parameter{T}})"/> from a checkpoint's bytes (a stream read to its
    /// end, an embedded resource, a download); <paramref name="source"/> names it in error messages.
    /// </summary>
    /// <exception cref="InvalidDataException">The bytes break the format or do not match the parameters; the message names the source and the byte offset.</exception>
    public static IReadOnlyDictionary<string, string> Load<T>(byte[] file, string source, IReadOnlyList<Parameter<T>> parameters)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(parameters);
        string path = source;
        (Dictionary<string, string> metadata, Dictionary<string, Entry> tensors, long dataStart) = Read(path, file);

        string dtype = DType<T>();
        int size = Marshal.SizeOf<T>();
        foreach (Parameter<T> p in parameters)
        {
            if (!tensors.TryGetValue(p.Name, out Entry t)) throw Bad(path, 8, $"no tensor named {p.Name}");
            if (t.DType != dtype) throw Bad(path, 8 + t.HeaderOffset, $"tensor {p.Name} has dtype {t.DType} but the model needs {dtype}");
            if (!t.Shape.SequenceEqual(p.Dims.Select(d => (long)d)))
                throw Bad(path, 8 + t.HeaderOffset, $"tensor {p.Name} has shape [{string.Join(", ", t.Shape)}] but the model needs [{string.Join(", ", p.Dims)}]");
            if (t.End - t.Begin != (long)p.Value.Length * size)
                throw Bad(path, dataStart + t.Begin, $"tensor {p.Name} spans {t.End - t.Begin} bytes but its shape needs {(long)p.Value.Length * size}");
        }
        string? extra = tensors.Keys.FirstOrDefault(k => parameters.All(p => p.Name != k));
        if (extra is not null) throw Bad(path, 8 + tensors[extra].HeaderOffset, $"tensor {extra} matches no parameter of the model");

        foreach (Parameter<T> p in parameters)
        {
            Entry t = tensors[p.Name];
            file.AsSpan((int)(dataStart + t.Begin), (int)(t.End - t.Begin)).CopyTo(MemoryMarshal.AsBytes(p.Value.AsSpan()));
            p.MarkChanged();
        }
        return metadata;
    }

    /// <summary>The metadata and each tensor's dtype and shape, without loading anything (what a loader needs to build the model first).</summary>
    /// <exception cref="InvalidDataException">The bytes break the format; the message names the source and the byte offset.</exception>
    public static (IReadOnlyDictionary<string, string> Metadata, IReadOnlyDictionary<string, (string DType, long[] Shape)> Tensors) Describe(byte[] file, string source)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(source);
        (Dictionary<string, string> metadata, Dictionary<string, Entry> tensors, _) = Read(source, file);
        return (metadata, tensors.ToDictionary(t => t.Key, t => (t.Value.DType, t.Value.Shape), StringComparer.Ordinal));
    }

    /// <summary>One tensor entry of the header; HeaderOffset is where its name starts in the JSON.</summary>
    private readonly record struct Entry(string DType, long[] Shape, long Begin, long End, long HeaderOffset);

    /// <summary>Parses and checks the header and the data layout of a whole file.</summary>
    private static (Dictionary<string, string>, Dictionary<string, Entry>, long DataStart) Read(string path, byte[] file)
    {
        if (file.Length < 8) throw Bad(path, 0, $"file has {file.Length} bytes, fewer than the 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (headerLength > (ulong)Math.Min(MaxHeader, file.Length - 8))
            throw Bad(path, 0, $"header length {headerLength} exceeds the {file.Length - 8} bytes after it (or the {MaxHeader}-byte limit)");
        var header = new ReadOnlySpan<byte>(file, 8, (int)headerLength);
        int invalid = FirstInvalidUtf8(header);
        if (invalid >= 0) throw Bad(path, 8 + invalid, "header is not valid UTF-8");
        long dataStart = 8 + (long)headerLength, dataLength = file.Length - dataStart;

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var tensors = new Dictionary<string, Entry>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(header, new JsonReaderOptions { MaxDepth = 4 });
        try
        {
            Next(ref reader, JsonTokenType.StartObject, path, "the header to be a JSON object");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (Next(ref reader, path) == JsonTokenType.PropertyName)
            {
                long at = reader.TokenStartIndex;
                string name = Text(ref reader, path);
                if (!seen.Add(name)) throw Bad(path, 8 + at, $"key {name} appears twice in the header");
                if (name == MetadataKey) ReadMetadata(ref reader, path, metadata);
                else tensors[name] = ReadEntry(ref reader, path, name, at, dataLength);
            }
            if (reader.TokenType != JsonTokenType.EndObject) throw Bad(path, 8 + reader.TokenStartIndex, "header entries must be named objects");
            if (reader.Read()) throw Bad(path, 8 + reader.TokenStartIndex, "header has content after its object");
        }
        catch (JsonException ex)
        {
            throw Bad(path, 8 + reader.BytesConsumed, $"header is not valid JSON ({ex.Message})");
        }

        // The tensors must tile the data buffer: sorted by offset, each starts where the previous ends, the last
        // ends at the end of the file (the format forbids holes and overlaps).
        long expected = 0;
        foreach (var (name, t) in tensors.OrderBy(e => e.Value.Begin).ThenBy(e => e.Value.End))
        {
            if (t.Begin != expected)
                throw Bad(path, dataStart + Math.Min(t.Begin, expected), t.Begin < expected
                    ? $"tensor {name} starts at data offset {t.Begin}, inside the previous tensor (which ends at {expected})"
                    : $"tensor {name} starts at data offset {t.Begin}, leaving a hole after data offset {expected}");
            expected = t.End;
        }
        if (expected != dataLength)
            throw Bad(path, dataStart + expected, $"the tensors cover {expected} of the {dataLength} data bytes; the rest belongs to none");
        return (metadata, tensors, dataStart);
    }

    private static void ReadMetadata(ref Utf8JsonReader reader, string path, Dictionary<string, string> metadata)
    {
        Next(ref reader, JsonTokenType.StartObject, path, $"{MetadataKey} to be an object");
        while (Next(ref reader, path) == JsonTokenType.PropertyName)
        {
            long at = reader.TokenStartIndex;
            string key = Text(ref reader, path);
            Next(ref reader, JsonTokenType.String, path, $"metadata {key} to be a string");
            if (!metadata.TryAdd(key, Text(ref reader, path))) throw Bad(path, 8 + at, $"metadata key {key} appears twice");
        }
    }

    private static Entry ReadEntry(ref Utf8JsonReader reader, string path, string name, long at, long dataLength)
    {
        Next(ref reader, JsonTokenType.StartObject, path, $"tensor {name} to be an object");
        string? dtype = null;
        long[]? shape = null, offsets = null;
        while (Next(ref reader, path) == JsonTokenType.PropertyName)
        {
            long keyAt = reader.TokenStartIndex;
            string key = Text(ref reader, path);
            switch (key)
            {
                case "dtype" when dtype is null:
                    Next(ref reader, JsonTokenType.String, path, $"tensor {name}'s dtype to be a string");
                    dtype = Text(ref reader, path);
                    if (!DTypeSizes.ContainsKey(dtype)) throw Bad(path, 8 + reader.TokenStartIndex, $"tensor {name} has unknown dtype {dtype}");
                    break;
                case "shape" when shape is null:
                    shape = Integers(ref reader, path, $"tensor {name}'s shape");
                    break;
                case "data_offsets" when offsets is null:
                    offsets = Integers(ref reader, path, $"tensor {name}'s data_offsets");
                    if (offsets.Length != 2) throw Bad(path, 8 + keyAt, $"tensor {name} has {offsets.Length} data_offsets instead of 2");
                    break;
                case "dtype" or "shape" or "data_offsets":
                    throw Bad(path, 8 + keyAt, $"tensor {name} has {key} twice");
                default:
                    throw Bad(path, 8 + keyAt, $"tensor {name} has an unknown key {key} (expected dtype, shape, data_offsets)");
            }
        }
        if (dtype is null || shape is null || offsets is null)
            throw Bad(path, 8 + at, $"tensor {name} lacks {(dtype is null ? "dtype" : shape is null ? "shape" : "data_offsets")}");
        (long begin, long end) = (offsets[0], offsets[1]);
        if (end < begin || end > dataLength)
            throw Bad(path, 8 + at, $"tensor {name} has data_offsets [{begin}, {end}] outside the {dataLength} data bytes");
        // The byte size from the shape, checked against the offsets without overflowing (dimensions may be huge).
        BigInteger bytes = DTypeSizes[dtype];
        foreach (long d in shape) bytes *= d;
        if (bytes != end - begin)
            throw Bad(path, 8 + at, $"tensor {name} has data_offsets [{begin}, {end}] ({end - begin} bytes) but its {dtype} shape [{string.Join(", ", shape)}] needs {bytes}");
        return new Entry(dtype, shape, begin, end, at);
    }

    /// <summary>An array of non-negative integers that fit a long.</summary>
    private static long[] Integers(ref Utf8JsonReader reader, string path, string what)
    {
        Next(ref reader, JsonTokenType.StartArray, path, $"{what} to be an array");
        var values = new List<long>();
        while (Next(ref reader, path) != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long v) || v < 0)
                throw Bad(path, 8 + reader.TokenStartIndex, $"{what} holds {Token(ref reader)}, not a non-negative integer");
            values.Add(v);
        }
        return [.. values];
    }

    /// <summary>The current string or property name; an escaped lone surrogate (<c>"\ud800"</c>) is not valid text.</summary>
    private static string Text(ref Utf8JsonReader reader, string path)
    {
        try { return reader.GetString()!; }
        catch (InvalidOperationException) { throw Bad(path, 8 + reader.TokenStartIndex, "header holds a string that is not valid Unicode"); }
    }

    private static JsonTokenType Next(ref Utf8JsonReader reader, string path)
    {
        if (!reader.Read()) throw Bad(path, 8 + reader.BytesConsumed, "header ends inside its JSON");
        return reader.TokenType;
    }

    private static void Next(ref Utf8JsonReader reader, JsonTokenType expected, string path, string what)
    {
        if (Next(ref reader, path) != expected) throw Bad(path, 8 + reader.TokenStartIndex, $"expected {what} but found {Token(ref reader)}");
    }

    private static string Token(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.String => $"the string \"{Encoding.UTF8.GetString(reader.ValueSpan)}\"",
        JsonTokenType.Number => $"the number {Encoding.UTF8.GetString(reader.ValueSpan)}",
        _ => $"a {reader.TokenType} token",
    };

    /// <summary>Index of the first byte that does not belong to a valid UTF-8 sequence, or -1.</summary>
    private static int FirstInvalidUtf8(ReadOnlySpan<byte> text)
    {
        Span<char> sink = stackalloc char[256];
        int at = 0;
        while (at < text.Length)
        {
            var status = System.Text.Unicode.Utf8.ToUtf16(text[at..], sink, out int read, out _, replaceInvalidSequences: false);
            at += read;
            if (status == System.Buffers.OperationStatus.InvalidData || status == System.Buffers.OperationStatus.NeedMoreData) return at;
        }
        return -1;
    }

    private static string DType<T>() => typeof(T) == typeof(float) ? "F32" : typeof(T) == typeof(double) ? "F64" : typeof(T) == typeof(Half) ? "F16"
        : throw new NotSupportedException($"safetensors has no dtype for {typeof(T).Name}.");

    private static InvalidDataException Bad(string path, long offset, string message) => new($"{path}: at offset {offset}: {message}.");
}
