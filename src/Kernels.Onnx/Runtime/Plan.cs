namespace Kernels.Onnx.Runtime;

/// <summary>
/// What planning knows of each value for one set of input dims: dims, element type, and the data of constants and
/// of int64 values computed while planning (shapes). Ops define their outputs here; every size is checked in 64 bits
/// and every table an op builds while planning is charged against the cap before it is allocated.
/// </summary>
internal sealed class PlanContext
{
    private long _charged;

    public PlanContext(Graph graph, long cap)
    {
        int count = graph.ValueCount;
        (Source, Cap) = (graph.Source, cap);
        Dims = new int[]?[count];
        Types = new ElementType[count];
        Floats = new float[]?[count];
        Ints = new long[]?[count];
        for (int v = 0; v < count; v++)
        {
            if (graph.Constants[v] is not ConstantTensor c) continue;
            (Dims[v], Types[v], Floats[v], Ints[v]) = (c.Dims, c.Type, c.Floats, c.Ints);
        }
    }

    public string Source { get; }

    /// <summary>OnnxModelOptions.MaxActivationFloats: the arena plus every charged table.</summary>
    public long Cap { get; }

    public int[]?[] Dims { get; }

    public ElementType[] Types { get; }

    /// <summary>Float data of constants (null for computed values).</summary>
    public float[]?[] Floats { get; }

    /// <summary>Int64 data known when planning: constants, and shapes computed from dims.</summary>
    public long[]?[] Ints { get; }

    public long Charged => _charged;

    /// <summary>Charges <paramref name="floats"/> (a table the op is about to allocate) against the cap, or throws
    /// naming the node.</summary>
    public void Charge(long floats, string node, string what)
    {
        long total = floats > Cap - _charged ? long.MaxValue : _charged + floats;
        if (total > Cap || floats > Array.MaxLength)
            throw new InvalidDataException($"{node}: {what} takes {floats} floats, which with the plan's other buffers passes " +
                $"OnnxModelOptions.MaxActivationFloats ({Cap}).");
        _charged = total;
    }

    /// <summary>Defines a computed float value; its element count must fit one buffer.</summary>
    public void Define(int value, int[] dims, string node)
    {
        if (value < 0) return;
        long n = Sizes.Elements(dims);
        if (Array.Exists(dims, d => d < 0)) throw new InvalidDataException($"{node}: output dims {Op.Format(dims)} have a " +
            $"negative dimension.");
        if (n > Array.MaxLength || n > Cap)
            throw new InvalidDataException($"{node}: output {Op.Format(dims)} has {n} elements, more than " +
                $"OnnxModelOptions.MaxActivationFloats ({Cap}) or one buffer allows.");
        (Dims[value], Types[value]) = (dims, ElementType.Float);
    }

    /// <summary>Defines an int64 value computed while planning (a shape): it needs no buffer at run time.</summary>
    public void DefineKnown(int value, int[] dims, long[] data)
    {
        if (value < 0) return;
        (Dims[value], Types[value], Ints[value]) = (dims, ElementType.Int64, data);
    }
}

/// <summary>
/// Everything one set of input dims needs: each value's dims and place (an offset in the arena, or a constant's
/// array), the steps, each step's scratch, and the arena's size. Immutable once built; runs rent a
/// <see cref="Frame"/> (an arena) from it, so concurrent runs of one plan never share buffers.
/// </summary>
internal sealed class Plan
{
    private readonly Stack<Frame> _idle = new();
    private readonly Lock _gate = new();

    public Plan(int[] symbols, int[]?[] dims, long[] offsets, float[]?[] constants, long[]?[] known, Step[] steps, long[] scratchOffsets,
        long arenaFloats, long charged)
    {
        (Symbols, Dims, Offsets, Constants, Known, Steps, ScratchOffsets, ArenaFloats, ChargedFloats) =
            (symbols, dims, offsets, constants, known, steps, scratchOffsets, arenaFloats, charged);
    }

    /// <summary>The value of each symbol this plan is for.</summary>
    public int[] Symbols { get; }

    public int[]?[] Dims { get; }

    /// <summary>Per value: its offset in the arena, or -1 (a constant, a known shape, or a value nothing reads).</summary>
    public long[] Offsets { get; }

    /// <summary>Per value: the constant array it reads from (constants and views of them), or null.</summary>
    public float[]?[] Constants { get; }

    /// <summary>Per value: int64 data known when planning (constants and shapes), or null.</summary>
    public long[]?[] Known { get; }

    public Step[] Steps { get; }

    public long[] ScratchOffsets { get; }

    /// <summary>Floats of one arena: the largest set of buffers live at once, plus scratch.</summary>
    public long ArenaFloats { get; }

    /// <summary>Floats of the tables the ops made while planning (average-pool divisors, say).</summary>
    public long ChargedFloats { get; }

    public int Length(int value) => (int)Sizes.Elements(Dims[value]);

    /// <summary>An idle arena, or a new one when every arena is in use (a new concurrent caller).</summary>
    public Frame Rent()
    {
        lock (_gate)
            if (_idle.TryPop(out Frame? f)) return f;
        return new Frame(this, new float[ArenaFloats]);
    }

    public void Return(Frame f)
    {
        lock (_gate) _idle.Push(f);
    }
}

/// <summary>One arena of a plan, and the step running in it: how a step reads its inputs and writes its outputs.</summary>
internal sealed class Frame(Plan plan, float[] arena)
{
    public Plan Plan { get; } = plan;

    public int Degree { get; set; } = 1;

    /// <summary>The step now running (its scratch).</summary>
    public int Step { get; set; }

    public int[] Dims(int value) => Plan.Dims[value]!;

    public ReadOnlySpan<float> Read(int value) => Plan.Constants[value] is float[] c ? c : arena.AsSpan((int)Plan.Offsets[value],
        Plan.Length(value));

    public Span<float> Write(int value) => arena.AsSpan((int)Plan.Offsets[value], Plan.Length(value));

    public Span<float> Scratch(long length) => arena.AsSpan((int)Plan.ScratchOffsets[Step], (int)length);
}
