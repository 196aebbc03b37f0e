namespace Kernels.Onnx.Runtime;

/// <summary>
/// The values of one plan: per value its dims and its float buffer (or int64 data for shape-like constants).
/// Constants (initializers, Constant nodes) are shared by every plan; activations are allocated once per batch size.
/// </summary>
internal sealed class Values(int count)
{
    public int[][] Dims { get; } = new int[count][];
    public float[][] Data { get; } = new float[count][];
    public long[]?[] Ints { get; } = new long[]?[count];
}

/// <summary>
/// One node of the runnable graph: it infers its output's dims from its inputs' (at load and whenever a new batch
/// size is planned) and computes the output on the fast kernels. Every op has one output.
/// </summary>
internal abstract class Op(string node, int[] inputs, int output)
{
    /// <summary>How errors name the node: "Conv node 'conv1'".</summary>
    public string Node { get; } = node;

    /// <summary>Value indices of the inputs (absent optional inputs are -1).</summary>
    public int[] Inputs { get; } = inputs;

    public int Output { get; } = output;

    /// <summary>True when the output is input 0's buffer under other dims (Flatten, Reshape, Identity, Dropout).</summary>
    public virtual bool Aliases => false;

    /// <summary>The output's dims; throws <see cref="InvalidDataException"/> naming the node when the inputs do not fit.</summary>
    public abstract int[] Infer(Values v);

    /// <summary>Floats of scratch the op needs for these dims (a padded copy of its input, say).</summary>
    public virtual long ScratchLength(Values v) => 0;

    /// <summary>Computes the output; every buffer already has its planned length.</summary>
    public abstract void Run(Values v, float[] scratch, int degree);

    protected InvalidDataException Invalid(string what) => new($"{Node}: {what}.");

    protected int[] DimsOf(Values v, int input) => v.Dims[Inputs[input]];

    protected int[] Rank(Values v, int input, int rank, string name)
    {
        int[] dims = DimsOf(v, input);
        if (dims.Length != rank) throw Invalid($"{name} has rank {dims.Length} {Format(dims)} but must have rank {rank}");
        return dims;
    }

    public static long Elements(ReadOnlySpan<int> dims)
    {
        long n = 1;
        foreach (int d in dims) n *= d;
        return n;
    }

    public static Shape4 As4(int[] dims) => new(dims[0], dims[1], dims[2], dims[3]);

    public static string Format<T>(T[] dims) => "(" + string.Join(",", dims) + ")";
}
