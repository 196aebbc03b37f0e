using Kernels.Nn;
using Kernels.Onnx.Export;

namespace Kernels.Onnx;

/// <summary>
/// Writes a trained network as an ONNX model (opset 17) with its weights and a symbolic batch dimension "N": input
/// "x" (N, C, H, W), output "y" (N, classes), the scores before softmax. Conv2DLayer becomes Conv, ReluLayer Relu,
/// the pools MaxPool / AveragePool, FlattenLayer Flatten and AffineLayer (W of D x M) Gemm after a Flatten of 4-D
/// input; the sandwich layers and Sequential are written as their parts. ONNX Runtime and <see cref="OnnxModel"/>
/// run the result.
/// </summary>
public static class OnnxExport
{
    /// <summary>The operator set the exported models import.</summary>
    public const int Opset = 17;

    /// <summary>The model of <paramref name="network"/> for images of <paramref name="channels"/> x <paramref name="height"/> x <paramref name="width"/>.</summary>
    public static byte[] ToBytes(Sequential<float> network, int channels, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(network);
        var input = new Shape4(1, channels, height, width);
        _ = network.OutputShape(input); // the network must accept the shape: checked before writing anything
        var writer = new Writer(new GraphWriter().Input("x", -1, channels, height, width));
        foreach (Layer<float> layer in network.Layers) writer.Layer(layer);
        string y = writer.Finish();
        Shape4 output = network.OutputShape(input);
        return writer.Graph.Output(y, -1, output.ImageLength).ToBytes(Opset);
    }

    /// <summary>The model of <paramref name="network"/> (input shape from its options).</summary>
    public static byte[] ToBytes(ThreeLayerConvNet<float> network)
    {
        ArgumentNullException.ThrowIfNull(network);
        return ToBytes(network.Network, network.Options.Channels, network.Options.Height, network.Options.Width);
    }

    /// <summary>Writes <see cref="ToBytes(Sequential{float}, int, int, int)"/> to a file (its folder is created).</summary>
    public static void Save(Sequential<float> network, int channels, int height, int width, string path) => Write(path, ToBytes(network, channels, height, width));

    /// <summary>Writes <see cref="ToBytes(ThreeLayerConvNet{float})"/> to a file (its folder is created).</summary>
    public static void Save(ThreeLayerConvNet<float> network, string path) => Write(path, ToBytes(network));

    private static void Write(string path, byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(path);
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        File.WriteAllBytes(path, bytes);
    }

    /// <summary>Walks the layers, naming each value after the node that makes it and tracking the rank (4 until a Flatten or Gemm).</summary>
    private sealed class Writer(GraphWriter graph)
    {
        private string _value = "x";
        private int _rank = 4, _count;

        public GraphWriter Graph => graph;

        public string Finish()
        {
            if (_rank == 4) Flatten(); // scores (N, M, 1, 1) are written as (N, M)
            return _value;
        }

        public void Layer(Layer<float> layer)
        {
            switch (layer)
            {
                case Sequential<float> s:
                    foreach (Layer<float> l in s.Layers) Layer(l);
                    break;
                case ConvReluPool<float> crp:
                    Conv(crp.Conv);
                    Node("Relu");
                    Pool("MaxPool", crp.Pool);
                    break;
                case AffineRelu<float> ar:
                    Affine(ar.Affine);
                    Node("Relu");
                    break;
                case Conv2DLayer<float> c: Conv(c); break;
                case ReluLayer<float>: Node("Relu"); break;
                case MaxPool2DLayer<float> m: Pool("MaxPool", m.Params); break;
                case AvgPool2DLayer<float> a: Pool("AveragePool", a.Params); break;
                case FlattenLayer<float>: Flatten(); break;
                case AffineLayer<float> a: Affine(a); break;
                default: throw new NotSupportedException($"Layer {layer.GetType().Name} has no ONNX export.");
            }
        }

        private string Node(string op, string[]? extra = null, params NodeAttribute[] attributes)
        {
            string output = $"{op.ToLowerInvariant()}{_count++}";
            graph.Node(op, [_value, .. extra ?? []], output, attributes);
            _value = output;
            return output;
        }

        private void Conv(Conv2DLayer<float> c)
        {
            Shape4 s = c.FilterShape;
            string w = $"conv{_count}.W", b = $"conv{_count}.b";
            graph.Initializer(w, [s.N, s.C, s.H, s.W], c.W.Value).Initializer(b, [s.N], c.B.Value);
            int pad = c.Params.Pad, stride = c.Params.Stride;
            Node("Conv", [w, b], new NodeAttribute("kernel_shape", Ints: [s.H, s.W]), new NodeAttribute("strides", Ints: [stride, stride]),
                new NodeAttribute("pads", Ints: [pad, pad, pad, pad]));
        }

        private void Pool(string op, Pool2DParams p) =>
            Node(op, null, new NodeAttribute("kernel_shape", Ints: [p.PoolHeight, p.PoolWidth]), new NodeAttribute("strides", Ints: [p.Stride, p.Stride]));

        private void Flatten()
        {
            Node("Flatten", null, new NodeAttribute("axis", Int: 1));
            _rank = 2;
        }

        private void Affine(AffineLayer<float> a)
        {
            if (_rank == 4) Flatten();
            string w = $"gemm{_count}.W", b = $"gemm{_count}.b";
            graph.Initializer(w, [a.W.Dims[0], a.W.Dims[1]], a.W.Value).Initializer(b, [a.W.Dims[1]], a.B.Value);
            Node("Gemm", [w, b]);
        }
    }
}
