using Kernels.Onnx.Runtime.Ops;
using Kernels.Onnx.Runtime.Ops.Elementwise;

namespace Kernels.Onnx.Runtime;

/// <summary>
/// The default domain's ops this runtime runs: op type and opset range to the factory that reads the node's
/// attributes (ONNX Runtime's kernel registry and ncnn's layer registry are the model). A new op is a file in Ops/
/// and a line here; each factory checks the attributes and inputs its op has in the model's opset.
/// </summary>
internal static class OpRegistry
{
    private static readonly Dictionary<string, (int Since, int Until, Func<OpContext, Op> Create)> Factories = new()
    {
        ["Abs"] = (1, GraphReader.MaxOpset, AbsFunction.Create),
        ["Add"] = (1, GraphReader.MaxOpset, Add.Create),
        ["AveragePool"] = (1, GraphReader.MaxOpset, PoolOp.Average),
        ["BatchNormalization"] = (1, GraphReader.MaxOpset, BatchNormOp.Create),
        ["Cast"] = (1, GraphReader.MaxOpset, CastOp.Create),
        ["Clip"] = (1, GraphReader.MaxOpset, ClipFunction.Create),
        ["Concat"] = (1, GraphReader.MaxOpset, ConcatOp.Create),
        ["ConstantOfShape"] = (9, GraphReader.MaxOpset, ConstantOfShapeOp.Create),
        ["Conv"] = (1, GraphReader.MaxOpset, ConvOp.Create),
        ["Div"] = (1, GraphReader.MaxOpset, Div.Create),
        ["Dropout"] = (1, GraphReader.MaxOpset, IdentityOp.Dropout),
        ["Elu"] = (1, GraphReader.MaxOpset, EluFunction.Create),
        ["Erf"] = (9, GraphReader.MaxOpset, ErfFunction.Create),
        ["Exp"] = (1, GraphReader.MaxOpset, ExpFunction.Create),
        ["Expand"] = (8, GraphReader.MaxOpset, ExpandOp.Create),
        ["Flatten"] = (1, GraphReader.MaxOpset, FlattenOp.Create),
        ["Gather"] = (1, GraphReader.MaxOpset, GatherOp.Create),
        ["Gemm"] = (1, GraphReader.MaxOpset, GemmOp.Gemm),
        ["GlobalAveragePool"] = (1, GraphReader.MaxOpset, PoolOp.Global),
        ["HardSigmoid"] = (1, GraphReader.MaxOpset, HardSigmoidFunction.Create),
        ["HardSwish"] = (14, GraphReader.MaxOpset, HardSwishFunction.Create),
        ["Identity"] = (1, GraphReader.MaxOpset, IdentityOp.Identity),
        ["LayerNormalization"] = (17, GraphReader.MaxOpset, LayerNormOp.Create),
        ["LeakyRelu"] = (1, GraphReader.MaxOpset, LeakyReluFunction.Create),
        ["Log"] = (1, GraphReader.MaxOpset, LogFunction.Create),
        ["MatMul"] = (1, GraphReader.MaxOpset, GemmOp.MatMul),
        ["Max"] = (1, GraphReader.MaxOpset, Max.Create),
        ["MaxPool"] = (1, GraphReader.MaxOpset, PoolOp.Max),
        ["Min"] = (1, GraphReader.MaxOpset, Min.Create),
        ["Mul"] = (1, GraphReader.MaxOpset, Mul.Create),
        ["Neg"] = (1, GraphReader.MaxOpset, NegFunction.Create),
        ["Pad"] = (1, GraphReader.MaxOpset, PadOp.Create),
        ["Pow"] = (1, GraphReader.MaxOpset, Pow.Create),
        ["Reciprocal"] = (1, GraphReader.MaxOpset, ReciprocalFunction.Create),
        ["ReduceMax"] = (1, GraphReader.MaxOpset, ReduceOp.Max),
        ["ReduceMean"] = (1, GraphReader.MaxOpset, ReduceOp.Mean),
        ["ReduceSum"] = (1, GraphReader.MaxOpset, ReduceOp.Sum),
        ["Relu"] = (1, GraphReader.MaxOpset, ReluFunction.Create),
        ["Reshape"] = (1, GraphReader.MaxOpset, ReshapeOp.Create),
        ["Shape"] = (1, GraphReader.MaxOpset, ShapeOp.Create),
        ["Sigmoid"] = (1, GraphReader.MaxOpset, SigmoidFunction.Create),
        ["Slice"] = (1, GraphReader.MaxOpset, SliceOp.Create),
        ["Softmax"] = (1, GraphReader.MaxOpset, SoftmaxOp.Create),
        ["Split"] = (1, GraphReader.MaxOpset, SplitOp.Create),
        ["Sqrt"] = (1, GraphReader.MaxOpset, SqrtFunction.Create),
        ["Squeeze"] = (1, GraphReader.MaxOpset, SqueezeOp.Squeeze),
        ["Sub"] = (1, GraphReader.MaxOpset, Sub.Create),
        ["Tanh"] = (1, GraphReader.MaxOpset, TanhFunction.Create),
        ["Transpose"] = (1, GraphReader.MaxOpset, TransposeOp.Create),
        ["Unsqueeze"] = (1, GraphReader.MaxOpset, SqueezeOp.Unsqueeze),
    };

    /// <summary>The op types and their opset ranges (docs/api.md lists them with their limits).</summary>
    public static IEnumerable<string> OpTypes => Factories.Keys.Order();

    public static Op Create(OpContext c)
    {
        if (!Factories.TryGetValue(c.OpType, out var entry))
            throw new NotSupportedException($"{c.Node}: op type {c.OpType} is not supported (docs/api.md lists the supported ops).");
        if (c.Opset < entry.Since || c.Opset > entry.Until)
            throw new NotSupportedException($"{c.Node}: op type {c.OpType} is supported in opsets {entry.Since}-{entry.Until}, " +
                $"not {c.Opset}.");
        Op op = entry.Create(c);
        (op.OpType, op.Name) = (c.OpType, c.NodeName);
        return op;
    }
}
