using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Kernels.Nn;

/// <summary>
/// Checkpoints in the safetensors format, so weights open in other tools: an 8-byte little-endian header length,
/// a UTF-8 JSON header <c>{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}</c>
/// (padded with spaces to 8 bytes), then the raw little-endian tensors. Loading checks everything before
/// writing any parameter, and throws <see cref="InvalidDataException"/> naming the file and offset.
/// </summary>
public static class Safetensors
{
    private const long MaxHeader = 100 << 20; // the reference implementation's limit

    /// <summary>Writes the parameters (F32 for float, F64 for double) with optional string metadata.</summary>
    public static void Save<T>(string path, IReadOnlyList<Parameter<T>> parameters, IReadOnlyDictionary<string, string>? metadata = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(parameters);
        string dtype = DType<T>();
        var json = new MemoryStream();
        using (var w = new Utf8JsonWriter(json))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (Parameter<T> p in parameters)
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

        using FileStream file = File.Create(path);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)json.Length);
        file.Write(length);
        json.Position = 0;
        json.CopyTo(file);
        foreach (Parameter<T> p in parameters)
        {
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors data is little-endian.");
            file.Write(MemoryMarshal.AsBytes(p.Value.AsSpan()));
        }
    }

    /// <summary>
    /// Loads every parameter by name; the file must hold each one with the same dtype and shape (extra tensors are
    /// an error too). Nothing is written unless the whole file is valid. Returns the metadata.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Load<T>(string path, IReadOnlyList<Parameter<T>> parameters)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(parameters);
        byte[] file = File.ReadAllBytes(path);
        if (file.Length < 8) throw Bad(path, 0, $"file has {file.Length} bytes, fewer than the 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (headerLength > (ulong)Math.Min(MaxHeader, file.Length - 8))
            throw Bad(path, 0, $"header length {headerLength} exceeds the {file.Length - 8} bytes after it (or the {MaxHeader}-byte limit)");
        long dataStart = 8 + (long)headerLength;
        long dataLength = file.Length - dataStart;
        var metadata = new Dictionary<string, string>();
        var tensors = new Dictionary<string, (long Begin, long End, string DType, long[] Shape)>();
        try
        {
            using JsonDocument doc = JsonDocument.Parse(file.AsMemory(8, (int)headerLength));
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Bad(path, 8, "header is not a JSON object");
            foreach (JsonProperty prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    foreach (JsonProperty m in prop.Value.EnumerateObject())
                        metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : throw Bad(path, 8, $"metadata {m.Name} is not a string");
                    continue;
                }
                JsonElement t = prop.Value;
                if (t.ValueKind != JsonValueKind.Object || !t.TryGetProperty("dtype", out JsonElement dt) || dt.ValueKind != JsonValueKind.String
                    || !t.TryGetProperty("shape", out JsonElement sh) || sh.ValueKind != JsonValueKind.Array
                    || !t.TryGetProperty("data_offsets", out JsonElement off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
                    throw Bad(path, 8, $"tensor {prop.Name} lacks a string dtype, an array shape or two data_offsets");
                long[] shape = sh.EnumerateArray().Select(e => e.TryGetInt64(out long v) && v >= 0 ? v : throw Bad(path, 8, $"tensor {prop.Name} has a bad dimension {e}")).ToArray();
                long begin = off[0].TryGetInt64(out long b) ? b : -1, end = off[1].TryGetInt64(out long e2) ? e2 : -1;
                if (begin < 0 || end < begin || end > dataLength)
                    throw Bad(path, dataStart + Math.Max(0, begin), $"tensor {prop.Name} has data_offsets [{off[0]}, {off[1]}] outside the {dataLength} data bytes");
                tensors[prop.Name] = (begin, end, dt.GetString()!, shape);
            }
        }
        catch (JsonException ex)
        {
            throw Bad(path, 8 + (ex.BytePositionInLine ?? 0), $"header is not valid JSON ({ex.Message})");
        }

        string dtype = DType<T>();
        int size = Marshal.SizeOf<T>();
        foreach (Parameter<T> p in parameters)
        {
            if (!tensors.TryGetValue(p.Name, out var t)) throw Bad(path, 8, $"no tensor named {p.Name}");
            if (t.DType != dtype) throw Bad(path, 8, $"tensor {p.Name} has dtype {t.DType} but the model needs {dtype}");
            if (!t.Shape.SequenceEqual(p.Dims.Select(d => (long)d)))
                throw Bad(path, 8, $"tensor {p.Name} has shape [{string.Join(", ", t.Shape)}] but the model needs [{string.Join(", ", p.Dims)}]");
            if (t.End - t.Begin != (long)p.Value.Length * size)
                throw Bad(path, dataStart + t.Begin, $"tensor {p.Name} spans {t.End - t.Begin} bytes but its shape needs {(long)p.Value.Length * size}");
        }
        string? extra = tensors.Keys.FirstOrDefault(k => parameters.All(p => p.Name != k));
        if (extra is not null) throw Bad(path, 8, $"tensor {extra} matches no parameter of the model");

        foreach (Parameter<T> p in parameters)
        {
            var t = tensors[p.Name];
            file.AsSpan((int)(dataStart + t.Begin), (int)(t.End - t.Begin)).CopyTo(MemoryMarshal.AsBytes(p.Value.AsSpan()));
        }
        return metadata;
    }

    private static string DType<T>() => typeof(T) == typeof(float) ? "F32" : typeof(T) == typeof(double) ? "F64" : typeof(T) == typeof(Half) ? "F16"
        : throw new NotSupportedException($"safetensors has no dtype for {typeof(T).Name}.");

    private static InvalidDataException Bad(string path, long offset, string message) => new($"{path}: at offset {offset}: {message}.");
}
