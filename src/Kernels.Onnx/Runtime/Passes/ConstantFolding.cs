namespace Kernels.Onnx.Runtime.Passes;

/// <summary>
/// Runs every node whose inputs are all constants once, at load, and makes its outputs constants: an Identity of a
/// shared initializer (how torch.onnx.export shares equal weights), a Cast or Concat of constant shapes. The node runs
/// through its own op, planned alone, so folding computes exactly what a run would. A view of a constant (Identity,
/// Reshape, Flatten) keeps the constant's array under its new dims: folded weights are not copied.
/// </summary>
internal static class ConstantFolding
{
    public static void Run(Graph graph, long cap)
    {
        int[] readers = graph.Readers();
        for (int i = 0; i < graph.Nodes.Count; i++)
        {
            Node node = graph.Nodes[i];
            if (node.Inputs.Length == 0 || !Array.TrueForAll(node.Inputs, v => v < 0 || graph.Constants[v] is not null)) continue;
            Op op = OpRegistry.Create(new OpContext(graph, node, readers));
            int[] outputs = [.. op.Outputs.Where(v => v >= 0)];
            Plan plan = Planner.Build(graph, [op], symbols: null, live: outputs, cap);
            Frame frame = plan.Rent();
            plan.Steps[0].Run(frame);
            foreach (int v in outputs)
            {
                int[] dims = plan.Dims[v]!;
                graph.Constants[v] = plan.Known[v] is long[] ints ? new ConstantTensor(dims, null, ints)
                    : new ConstantTensor(dims, plan.Constants[v] ?? frame.Read(v).ToArray(), null);
            }
            graph.Nodes.RemoveAt(i--);
        }
    }
}
