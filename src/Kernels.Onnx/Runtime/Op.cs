namespace Kernels.Onnx.Runtime;

/// <summary>Element counts in 64 bits that saturate instead of wrapping, so a size past every cap stays past it.</summary>
internal static class Sizes
{
    public static long Product(long a, long b) => a == 0 || b == 0 ? 0 : a > long.MaxValue / b ? long.MaxValue : a * b;

    public static long Elements(ReadOnlySpan<int> dims)
    {
        long n = 1;
        foreach (int d in dims) n = Product(n, d);
        return n;
    }
}

/// <summary>
/// What an op's factory reads of its node: attributes, the model's opset, which inputs are present and the data of
/// the constant ones. Made once per node at load.
/// </summary>
internal sealed class OpContext(Graph graph, Node node, int[] readers)
{
    public Graph Graph { get; } = graph;

    /// <summary>How every message names the node: "model.onnx: Conv node 'conv1' (offset 812)".</summary>
    public string Node => node.Describe;

    public string OpType => node.OpType;

    public string NodeName => node.Name;

    public long Opset => Graph.Opset;

    public NodeAttributes Attributes => node.Attributes;

    public int[] Inputs => node.Inputs;

    public int[] Outputs => node.Outputs;

    /// <summary>Value id of input <paramref name="i"/>, -1 where absent.</summary>
    public int Input(int i) => i < node.Inputs.Length ? node.Inputs[i] : -1;

    /// <summary>Input <paramref name="i"/>'s constant data, or null when it is absent or computed.</summary>
    public ConstantTensor? Constant(int i) => Input(i) is int v and >= 0 ? Graph.Constants[v] : null;

    /// <summary>Refuses a node with fewer than <paramref name="required"/> present inputs or more than <paramref name="max"/>.</summary>
    public void Arity(int required, int max)
    {
        for (int i = 0; i < required; i++)
            if (Input(i) < 0) throw new InvalidDataException($"{Node} has {node.Inputs.Count(v => v >= 0)} inputs but needs " +
                $"{required} (input {i} is missing).");
        if (node.Inputs.Length > max) throw new InvalidDataException($"{Node} has {node.Inputs.Length} inputs but {OpType} takes " +
            $"at most {max}.");
    }

    /// <summary>
    /// Refuses a node whose outputs past the first <paramref name="supported"/> are read (training-state outputs:
    /// Dropout's mask, MaxPool's indices, BatchNormalization's running statistics); unread ones are dropped.
    /// </summary>
    public int[] SupportedOutputs(int supported)
    {
        for (int i = supported; i < node.Outputs.Length; i++)
            if (node.Outputs[i] >= 0 && readers[node.Outputs[i]] > 0)
                throw new NotSupportedException($"{Node}: output {i} ('{Graph.Names[node.Outputs[i]]}') is used; only the first " +
                    $"{(supported == 1 ? "output is" : $"{supported} outputs are")} supported.");
        return node.Outputs[..Math.Min(supported, node.Outputs.Length)];
    }

    public float[] ConstantFloats(int i, string name) => Constant(i) is { Floats: float[] f } ? f
        : Constant(i) is not null ? throw new InvalidDataException($"{Node}: input {name} is an int64 constant but must be float.")
        : throw new NotSupportedException($"{Node}: input {name} must be a float initializer or Constant (computed weights are " +
            $"not supported).");

    public long[] ConstantInts(int i, string name) => Constant(i) is { Ints: long[] v } ? v
        : Constant(i) is not null ? throw new InvalidDataException($"{Node}: input {name} is a float constant but must be int64.")
        : throw new NotSupportedException($"{Node}: input {name} must be an int64 initializer or Constant (a shape computed at " +
            $"run time is not supported).");

    public InvalidDataException Malformed(string what) => new($"{Node}: {what}.");

    public NotSupportedException Unsupported(string what) => new($"{Node}: {what}.");
}

/// <summary>
/// One node of the runnable graph, made from its attributes at load (constant weights prepared then). Planning
/// (<see cref="Plan"/>) infers its outputs' dims and types for one set of input dims and returns that plan's
/// <see cref="Step"/>; it never changes the op, so plans of other batch sizes, and runs on several threads at once,
/// share the op.
/// </summary>
internal abstract class Op(string node, int[] inputs, int[] outputs)
{
    /// <summary>How errors name the node: "model.onnx: Conv node 'conv1' (offset 812)".</summary>
    public string Node { get; } = node;

    /// <summary>Value ids of the inputs (absent optional inputs are -1).</summary>
    public int[] Inputs { get; } = inputs;

    /// <summary>Value ids of the outputs the op computes (unnamed ones are -1).</summary>
    public int[] Outputs { get; } = outputs;

    public int Output => Outputs[0];

    /// <summary>The node's op type ("Conv"); set by the registry.</summary>
    public string OpType { get; internal set; } = "";

    /// <summary>The node's name in the file, or its position where it has none (profiles key on it).</summary>
    public string Name { get; internal set; } = "";

    /// <summary>Defines every output's dims and type in <paramref name="p"/>; throws <see cref="InvalidDataException"/>
    /// or <see cref="NotSupportedException"/> naming the node when the inputs do not fit.</summary>
    public abstract Step Plan(PlanContext p);

    protected InvalidDataException Invalid(string what) => new($"{Node}: {what}.");

    /// <summary>Input <paramref name="input"/>'s dims, checked to be a float value of the given rank (any rank: -1).</summary>
    protected int[] Float(PlanContext p, int input, string name, int rank = -1)
    {
        int v = Inputs[input];
        if (p.Types[v] != ElementType.Float)
        {
            // A float input beside it makes this a type error in the file; an op of int64 values only is valid ONNX
            // this runtime does not run.
            bool mixed = Array.Exists(Inputs, i => i >= 0 && p.Types[i] == ElementType.Float);
            string what = $"{Node}: input {name} is {p.Types[v].ToString().ToLowerInvariant()} but must be float";
            throw mixed ? new InvalidDataException(what + ".") : new NotSupportedException(what + " (this op runs on float values only).");
        }
        int[] dims = p.Dims[v]!;
        if (rank >= 0 && dims.Length != rank) throw Invalid($"{name} has rank {dims.Length} {Format(dims)} but must have rank {rank}");
        return dims;
    }

    /// <summary>Input <paramref name="input"/>'s int64 data, known while planning (a constant, or a shape computed from dims).</summary>
    protected long[] Ints(PlanContext p, int input, string name)
    {
        int v = Inputs[input];
        if (p.Types[v] != ElementType.Int64) throw Invalid($"input {name} is {p.Types[v].ToString().ToLowerInvariant()} but must be int64");
        return p.Ints[v] ?? throw new NotSupportedException($"{Node}: input {name} is computed at run time; only constant int64 " +
            $"values and shapes are supported.");
    }

    /// <summary>Whether input <paramref name="input"/> is an int64 value known while planning (the op then computes its
    /// output while planning too).</summary>
    protected bool IsKnown(PlanContext p, int input) => p.Types[Inputs[input]] == ElementType.Int64;

    /// <summary>
    /// Defines int64 output <paramref name="output"/> as a value computed while planning and returns its data to fill:
    /// its dims are checked and its data (two floats an element) charged against the cap before it is allocated.
    /// </summary>
    protected long[] DefineKnown(PlanContext p, int output, int[] dims)
    {
        if (Array.Exists(dims, d => d < 0)) throw Invalid($"output dims {Format(dims)} have a negative dimension");
        long n = Sizes.Elements(dims);
        p.Charge(Sizes.Product(n, 2), Node, $"the int64 value {Format(dims)} computed while planning");
        var data = new long[n];
        p.DefineKnown(output, dims, data);
        return data;
    }

    /// <summary>Row-major strides of <paramref name="dims"/>, in elements.</summary>
    public static long[] Strides(int[] dims)
    {
        var strides = new long[dims.Length];
        long stride = 1;
        for (int i = dims.Length - 1; i >= 0; i--)
        {
            strides[i] = stride;
            stride = Sizes.Product(stride, dims[i]);
        }
        return strides;
    }

    /// <summary>Axis <paramref name="axis"/> in [-rank, rank - 1] as a position in [0, rank), or throws naming what it is for.</summary>
    protected int Axis(long axis, int rank, string what)
    {
        if (axis < -rank || axis >= rank) throw Invalid($"{what} {axis} is outside [-{rank}, {rank - 1}]");
        return (int)(axis < 0 ? axis + rank : axis);
    }

    /// <summary>Axes each in [-rank, rank - 1], none twice, as positions in [0, rank).</summary>
    protected int[] Axes(long[] axes, int rank, string what)
    {
        var result = new int[axes.Length];
        for (int i = 0; i < axes.Length; i++)
        {
            result[i] = Axis(axes[i], rank, what);
            if (Array.IndexOf(result, result[i], 0, i) >= 0) throw Invalid($"{what} {Format(axes)} name axis {result[i]} twice");
        }
        return result;
    }

    public static Shape4 As4(int[] dims) => new(dims[0], dims[1], dims[2], dims[3]);

    public static string Format<T>(T[] dims) => "(" + string.Join(",", dims) + ")";
}

/// <summary>An op's work for one plan: everything resolved for these dims (pads, tables, the algorithm).</summary>
internal abstract class Step
{
    /// <summary>Floats of scratch the step needs while it runs (a padded copy of its input, say).</summary>
    public virtual long ScratchFloats => 0;

    /// <summary>The input position whose buffer output 0 is under other dims (a view), or -1.</summary>
    public virtual int AliasOf => -1;

    /// <summary>What the step runs, for profiles: the algorithm a Conv picked, say ("" when there is nothing to say).</summary>
    public virtual string Detail => "";

    /// <summary>Computes the outputs into their planned buffers.</summary>
    public abstract void Run(Frame f);
}

/// <summary>A step with nothing to do at run time: a view, or outputs known when planning (shapes).</summary>
internal sealed class NoStep(int aliasOf = -1) : Step
{
    public static readonly NoStep Known = new();

    public override int AliasOf => aliasOf;

    public override void Run(Frame f) { }
}
