using Kernels.Onnx.Runtime.Ops;

namespace Kernels.Onnx.Runtime.Passes;

/// <summary>
/// Folds a BatchNormalization into the Conv that feeds it, when nothing else reads the Conv's output: each filter is
/// scaled and its bias shifted (new constants; the originals stay for any other reader), the Conv writes the
/// BatchNormalization's output, and the BatchNormalization goes.
/// </summary>
internal static class ConvBatchNormFolding
{
    public static void Run(Graph graph)
    {
        int[] readers = graph.Readers();
        var producer = new Dictionary<int, Node>();
        foreach (Node n in graph.Nodes)
            foreach (int v in n.Outputs)
                if (v >= 0) producer[v] = n;
        for (int i = 0; i < graph.Nodes.Count; i++)
        {
            Node bn = graph.Nodes[i];
            if (bn.OpType != "BatchNormalization" || bn.Inputs.Length < 1 || bn.Inputs[0] < 0) continue;
            if (!producer.TryGetValue(bn.Inputs[0], out Node? conv) || conv.OpType != "Conv" || readers[bn.Inputs[0]] != 1) continue;
            if (conv.Inputs.Length < 2 || conv.Inputs[1] < 0 || graph.Constants[conv.Inputs[1]] is not { Floats: float[] w,
                Dims: [int f, _, _, _] } wt)
                continue;
            float[]? b = conv.Inputs.Length > 2 && conv.Inputs[2] >= 0 ? graph.Constants[conv.Inputs[2]]?.Floats : new float[f];
            if (b is null || b.Length != f) continue; // the Conv refuses it itself
            (float[] scale, float[] shift) = BatchNormOp.ScaleShift(new OpContext(graph, bn, readers)); // checks the node as the op would
            if (scale.Length != f) continue; // the BatchNormalization op then refuses the channel count
            var folded = new float[w.Length];
            var bias = new float[f];
            int per = w.Length / f;
            for (int k = 0; k < f; k++)
            {
                for (int j = 0; j < per; j++) folded[k * per + j] = w[k * per + j] * scale[k];
                bias[k] = b[k] * scale[k] + shift[k];
            }
            int weights = graph.AddValue(graph.Names[conv.Inputs[1]] + "\u0000folded", new ConstantTensor(wt.Dims, folded, null));
            int biases = graph.AddValue(graph.Names[conv.Inputs[1]] + "\u0000bias", new ConstantTensor([f], bias, null));
            int[] inputs = [conv.Inputs[0], weights, biases];
            int index = graph.Nodes.IndexOf(conv);
            graph.Nodes[index] = new Node(conv.OpType, conv.Name, conv.Describe, conv.Attributes, inputs, [bn.Outputs[0],
                .. conv.Outputs[1..]]);
            graph.Nodes.RemoveAt(i--);
        }
    }
}
