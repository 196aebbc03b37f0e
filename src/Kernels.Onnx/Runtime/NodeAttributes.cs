using Kernels.Onnx.Schema;

namespace Kernels.Onnx.Runtime;

/// <summary>Typed access to a node's attributes; a wrong type is malformed, an unsupported value is named. <c>describe</c> names the file and the node.</summary>
internal sealed class NodeAttributes(NodeMessage node, string describe)
{
    private readonly Dictionary<string, AttributeMessage> _byName = node.Attributes.GroupBy(a => a.Name).ToDictionary(g => g.Key, g => g.Last());

    public bool Has(string name) => _byName.ContainsKey(name);

    public long Int(string name, long fallback) => Get(name, 2) is { } a ? a.I : fallback;

    public float Float(string name, float fallback) => Get(name, 1) is { } a ? a.F : fallback;

    public string String(string name, string fallback) => Get(name, 3) is { } a ? a.S : fallback;

    public long[]? Ints(string name) => Get(name, 7) is { } a ? [.. a.Ints] : null;

    public float[]? Floats(string name) => Get(name, 6) is { } a ? [.. a.Floats] : null;

    public TensorMessage? Tensor(string name) => Get(name, 4)?.T;

    /// <summary>Throws <see cref="NotSupportedException"/> naming the node and attribute.</summary>
    public NotSupportedException Unsupported(string name, string what) => new($"{describe}: attribute {name} {what} is not supported.");

    public InvalidDataException Malformed(string what) => new($"{describe}: {what}.");

    /// <summary>Refuses every attribute outside <paramref name="known"/> (an attribute the runtime would ignore changes the result).</summary>
    public void OnlyKnown(params string[] known)
    {
        foreach (string name in _byName.Keys)
            if (Array.IndexOf(known, name) < 0) throw Unsupported(name, "(unknown to this op's implementation)");
    }

    private AttributeMessage? Get(string name, int type)
    {
        if (!_byName.TryGetValue(name, out AttributeMessage? a)) return null;
        // Some exporters leave the type out; the value fields still say what it is.
        if (a.Type != 0 && a.Type != type) throw new InvalidDataException($"{describe}: attribute {name} (offset {a.Offset}) has type {a.Type} but must have type {type}.");
        return a;
    }
}
