using Kernels.Onnx.Export;

namespace Kernels.Benchmarks.Peers;

/// <summary>
/// Builds a one-node ONNX model in memory with Kernels.Onnx's writer, so the benchmark needs no model files.
/// Inputs and outputs are float tensors of fixed shape.
/// </summary>
public static class OneNodeModel
{
    public sealed record Attr(string Name, long? Int = null, long[]? Ints = null);

    public static byte[] Build(string opType, (string Name, long[] Shape)[] inputs, (string Name, long[] Shape) output, params Attr[] attributes)
    {
        var graph = new GraphWriter("Kernels.Benchmarks");
        foreach (var i in inputs) graph.Input(i.Name, i.Shape);
        return graph.Node(opType, inputs.Select(i => i.Name).ToArray(), output.Name, attributes.Select(a => new NodeAttribute(a.Name, a.Int, a.Ints)).ToArray())
            .Output(output.Name, output.Shape)
            .ToBytes(17);
    }
}
