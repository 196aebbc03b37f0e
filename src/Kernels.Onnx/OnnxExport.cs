using System.Diagnostics;
using Kernels.Nn;
using Kernels.Onnx.Export;

namespace Kernels.Onnx;

/// <summary>
/// Writes a trained network as an ONNX model (opset 17) with its weights and a symbolic batch dimension "N": input
/// "x" (N, C, H, W), output "y" (N, classes), the scores before softmax. Conv2DLayer becomes Conv, ReluLayer Relu,
/// the pools MaxPool / AveragePool, FlattenLayer Flatten and AffineLayer (W of D x M) Gemm after a Flatten of 4-D
/// input; the sandwich layers and Sequential are written as their parts. A Conv or pool after an affine layer or a
/// flatten reads the (N, D) value as (N, D, 1, 1), as Kernels' layers do, through a Reshape. ONNX Runtime and
/// <see cref="OnnxModel"/> run the result, and onnx.checker's full check accepts it.
/// </summary>
public static class OnnxExport
{
    /// <summary>The operator set the exported models import.</summary>
    public const int Opset = 17;

    /// <summary>The model of <paramref name="network"/> for images of <paramref name="channels"/> x <paramref
    /// name="height"/> x <paramref name="width"/>.</summary>
    public static byte[] ToBytes(Sequential<float> network, int channels, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(network);
        var input = new Shape4(1, channels, height, width);
        Shape4 output = network.OutputShape(input); // the network must accept the shape: checked before writing anything
        var writer = new Writer(new GraphWriter().Input("x", -1, channels, height, width), input);
        foreach (Layer<float> layer in network.Layers) writer.Layer(layer);
        writer.Finish();
        return writer.Graph.Output("y", -1, output.ImageLength).ToBytes(Opset);
    }

    /// <summary>The model of <paramref name="network"/> (input shape from its options).</summary>
    public static byte[] ToBytes(ThreeLayerConvNet<float> network)
    {
        ArgumentNullException.ThrowIfNull(network);
        return ToBytes(network.Network, network.Options.Channels, network.Options.Height, network.Options.Width);
    }

    /// <summary>Writes <see cref="ToBytes(Sequential{float}, int, int, int)"/> to a file (its folder is created).</summary>
    public static void Save(Sequential<float> network, int channels, int height, int width, string path) => Write(path,
        ToBytes(network, channels, height, width));

    /// <summary>Writes <see cref="ToBytes(ThreeLayerConvNet{float})"/> to a file (its folder is created).</summary>
    public static void Save(ThreeLayerConvNet<float> network, string path) => Write(path, ToBytes(network));

    private static void Write(string path, byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(path);
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        File.WriteAllBytes(path, bytes);
    }

    /// <summary>
    /// Walks the layers, naming each value after the node that makes it and the last one "y". It tracks the shape
    /// Kernels gives each layer (N = 1) and the rank of the written value: 4 until a Flatten or Gemm makes it 2, and 4
    /// again where a Conv or pool reads a flat (N, D) value, which Kernels' layers take as (N, D, 1, 1) (an affine
    /// layer's output shape; FlattenLayer's too), so the writer reshapes it to exactly that.
    /// </summary>
    private sealed class Writer(GraphWriter graph, Shape4 input)
    {
        private string _value = "x";
        private Shape4 _shape = input;
        private int _rank = 4, _count;
        private (string Op, string[] Inputs, string Output, NodeAttribute[] Attributes)? _pending;

        public GraphWriter Graph => graph;

        /// <summary>Writes the last node with the output "y", scores (N, M, 1, 1) flattened to (N, M) first.</summary>
        public void Finish()
        {
            if (_rank == 4) Flatten();
            Write("y");
        }

        public void Layer(Layer<float> layer)
        {
            switch (layer)
            {
                case Sequential<float> s:
                    foreach (Layer<float> l in s.Layers) Layer(l);
                    return; // its layers moved the shape
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
                case FlattenLayer<float>: if (_rank == 4) Flatten(); break; // a flat value is already (N, D)
                case AffineLayer<float> a: Affine(a); break;
                case BatchNorm2DLayer<float> bn: BatchNorm(bn); break;
                case ActivationLayer<float> f: Activation(f.Activation); break;
                case GlobalAvgPoolLayer<float>: Image(); Node("GlobalAveragePool"); break;
                default: throw new NotSupportedException($"Layer {layer.GetType().Name} has no ONNX export.");
            }
            _shape = layer.OutputShape(_shape);
        }

        /// <summary>Adds a node reading the current value; it is written when the next one comes (or by <see cref="Finish"/>).</summary>
        private void Node(string op, string[]? extra = null, params NodeAttribute[] attributes)
        {
            Write(null);
            string output = $"{op.ToLowerInvariant()}{_count++}";
            _pending = (op, [_value, .. extra ?? []], output, attributes);
            _value = output;
        }

        private void Write(string? rename)
        {
            if (_pending is not { } node) return;
            graph.Node(node.Op, node.Inputs, rename ?? node.Output, node.Attributes);
            _pending = null;
        }

        /// <summary>A Conv or pool reads NCHW: a flat (N, D) value becomes (N, D, 1, 1), as in Kernels.</summary>
        private void Image()
        {
            if (_rank == 4) return;
            Debug.Assert(_shape.H == 1 && _shape.W == 1, "a flat value is (N, D, 1, 1) in Kernels");
            string shape = $"reshape{_count}.shape";
            graph.Initializer(shape, [4], [0, _shape.C, _shape.H, _shape.W]); // 0 keeps the batch
            Node("Reshape", [shape]);
            _rank = 4;
        }

        private void Conv(Conv2DLayer<float> c)
        {
            Image();
            Shape4 s = c.FilterShape;
            string w = $"conv{_count}.W", b = $"conv{_count}.b";
            graph.Initializer(w, [s.N, s.C, s.H, s.W], c.W.Value).Initializer(b, [s.N], c.B.Value);
            Conv2DParams p = c.Params; // every parameter per axis: ONNX's pads are [top, left, bottom, right]
            Node("Conv", [w, b], new NodeAttribute("kernel_shape", Ints: [s.H, s.W]), new NodeAttribute("strides",
                Ints: [p.StrideH, p.StrideW]),
                new NodeAttribute("pads", Ints: [p.PadTop, p.PadLeft, p.PadBottom, p.PadRight]),
                new NodeAttribute("dilations", Ints: [p.DilationH, p.DilationW]), new NodeAttribute("group", Int: p.Groups));
        }

        private void Pool(string op, Pool2DParams p)
        {
            Image();
            Node(op, null, new NodeAttribute("kernel_shape", Ints: [p.PoolHeight, p.PoolWidth]), new NodeAttribute("strides",
                Ints: [p.Stride, p.Stride]));
        }

        /// <summary>Batch norm as inference runs it (the running statistics), whatever the layer's mode.</summary>
        private void BatchNorm(BatchNorm2DLayer<float> bn)
        {
            Image();
            string prefix = $"bn{_count}";
            string[] names = [$"{prefix}.gamma", $"{prefix}.beta", $"{prefix}.mean", $"{prefix}.var"];
            float[][] values = [bn.Parameters[0].Value, bn.Parameters[1].Value, bn.Buffers[0].Value, bn.Buffers[1].Value];
            for (int i = 0; i < 4; i++) graph.Initializer(names[i], [values[i].Length], values[i]);
            Node("BatchNormalization", names, new NodeAttribute("epsilon", Float: (float)bn.Params.Epsilon));
        }

        /// <summary>The activation as ONNX writes it: one node, or SiLU's Sigmoid and Mul, GELU's erf or tanh formula.</summary>
        private void Activation(Activation f)
        {
            string x = _value;
            switch (f.Kind)
            {
                case ActivationKind.Relu: Node("Relu"); break;
                case ActivationKind.Sigmoid: Node("Sigmoid"); break;
                case ActivationKind.Tanh: Node("Tanh"); break;
                case ActivationKind.HardSigmoid: Node("HardSigmoid", null, new NodeAttribute("alpha", Float: 1f / 6),
                    new NodeAttribute("beta", Float: 0.5f)); break;
                case ActivationKind.HardSwish: Node("HardSwish"); break;
                case ActivationKind.LeakyRelu: Node("LeakyRelu", null, new NodeAttribute("alpha", Float: f.A)); break;
                case ActivationKind.Elu: Node("Elu", null, new NodeAttribute("alpha", Float: f.A)); break;
                case ActivationKind.Clip:
                    string low = $"clip{_count}.min", high = $"clip{_count}.max";
                    graph.Initializer(low, [], [f.A]).Initializer(high, [], [f.B]);
                    Node("Clip", [low, high]);
                    break;
                case ActivationKind.Silu:
                    Node("Sigmoid");
                    Node("Mul", [x]);
                    break;
                case ActivationKind.Gelu: // x * (1 + erf(x / sqrt 2)) / 2, torch's export of the exact GELU
                    string root2 = $"gelu{_count}.sqrt2", one = $"gelu{_count}.one", half = $"gelu{_count}.half";
                    graph.Initializer(root2, [], [MathF.Sqrt(2)]).Initializer(one, [], [1f]).Initializer(half, [], [0.5f]);
                    Node("Div", [root2]);
                    Node("Erf");
                    Node("Add", [one]);
                    Node("Mul", [x]);
                    Node("Mul", [half]);
                    break;
                default: throw new NotSupportedException($"Activation {f} has no ONNX export.");
            }
        }

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
