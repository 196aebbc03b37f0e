namespace Kernels.Onnx.Runtime;

/// <summary>
/// Builds a <see cref="Plan"/>: shape inference over the ops in order, then memory planning by value lifetimes
/// (ONNX Runtime's allocation planner is the model): a value lives from the step that writes it to the last step that
/// reads it (graph outputs to the end; a view keeps its source alive as long as itself), scratch for the length of its
/// step, and buffers whose lifetimes do not meet share arena space. Placement is greedy by size, largest first, each
/// at the lowest offset free for its whole lifetime. The arena, and every table the ops charged, must fit
/// MaxActivationFloats before anything of that size is allocated.
/// </summary>
internal static class Planner
{
    /// <summary>Arena offsets are multiples of 16 floats (64 bytes, a cache line and a Vector512).</summary>
    private const int Alignment = 16;

    /// <param name="graph">The graph (constants, inputs, outputs).</param>
    /// <param name="ops">The ops in order.</param>
    /// <param name="symbols">The value of each symbol; null when planning ops of constants only (folding).</param>
    /// <param name="live">Values that must survive the last step (the graph's outputs, or the folded node's).</param>
    /// <param name="cap">OnnxModelOptions.MaxActivationFloats.</param>
    public static Plan Build(Graph graph, IReadOnlyList<Op> ops, int[]? symbols, IEnumerable<int> live, long cap)
    {
        var p = new PlanContext(graph, cap);
        if (symbols is not null)
            foreach (GraphInput input in graph.Inputs)
            {
                int[] dims = [.. input.Fixed.Select((d, i) => input.Symbols[i] >= 0 ? symbols[input.Symbols[i]] : d)];
                p.Define(input.Value, dims, $"{graph.Source}: input '{input.Name}'");
            }
        var steps = new Step[ops.Count];
        for (int i = 0; i < ops.Count; i++)
        {
            foreach (int v in ops[i].Inputs)
                if (v >= 0 && p.Dims[v] is null) throw new InvalidDataException($"{ops[i].Node}: input '{graph.Names[v]}' has no " +
                    $"value (a runtime input read while folding constants).");
            steps[i] = ops[i].Plan(p);
        }
        return Place(graph, ops, steps, p, symbols ?? [], live, folding: symbols is null);
    }

    private static Plan Place(Graph graph, IReadOnlyList<Op> ops, Step[] steps, PlanContext p, int[] symbols,
        IEnumerable<int> live, bool folding)
    {
        int count = graph.ValueCount, end = steps.Length;
        // A view's output is its source's buffer: root[v] is the value that owns v's storage.
        var root = new int[count];
        for (int v = 0; v < count; v++) root[v] = v;
        for (int i = 0; i < steps.Length; i++)
            if (steps[i].AliasOf >= 0) root[ops[i].Output] = root[ops[i].Inputs[steps[i].AliasOf]];
        var first = new int[count];
        var last = new int[count];
        Array.Fill(first, int.MaxValue);
        Array.Fill(last, -1);
        foreach (GraphInput input in graph.Inputs) first[input.Value] = -1;
        for (int i = 0; i < steps.Length; i++)
        {
            foreach (int v in ops[i].Outputs)
                if (v >= 0) (first[root[v]], last[root[v]]) = (Math.Min(first[root[v]], i), Math.Max(last[root[v]], i));
            foreach (int v in ops[i].Inputs)
                if (v >= 0) last[root[v]] = Math.Max(last[root[v]], i);
        }
        foreach (int v in live)
        {
            if (folding && p.Types[v] == ElementType.Int64 && p.Ints[v] is not null) continue; // a folded shape
            if (p.Types[v] != ElementType.Float || p.Dims[v] is null)
                throw new NotSupportedException($"{graph.Source}: output '{graph.Names[v]}' is an " +
                    $"{p.Types[v].ToString().ToLowerInvariant()} shape computed while planning; only float outputs are supported.");
            last[root[v]] = end;
        }

        var buffers = new List<(int Key, long Size, int First, int Last)>(); // Key: value id, or -1 - step for scratch
        for (int v = 0; v < count; v++)
        {
            // Every value written (or given as an input) and not constant gets a buffer: one nothing reads lives for its step.
            if (root[v] != v || first[v] == int.MaxValue || p.Floats[v] is not null || p.Types[v] != ElementType.Float
                || p.Dims[v] is null) continue;
            buffers.Add((v, Sizes.Elements(p.Dims[v]), first[v], Math.Max(first[v], last[v])));
        }
        for (int i = 0; i < steps.Length; i++)
        {
            long scratch = steps[i].ScratchFloats;
            if (scratch > Array.MaxLength) throw new InvalidDataException($"{ops[i].Node}: scratch of {scratch} floats is more " +
                $"than one buffer can hold.");
            if (scratch > 0) buffers.Add((-1 - i, scratch, i, i));
        }

        long arena = 0;
        var offsets = new long[count];
        Array.Fill(offsets, -1);
        var scratchOffsets = new long[steps.Length];
        var placed = new List<(long Offset, long Size, int First, int Last)>();
        foreach (var b in buffers.OrderByDescending(b => b.Size).ThenBy(b => b.First))
        {
            long size = (b.Size + Alignment - 1) / Alignment * Alignment, offset = 0;
            foreach (var q in placed.Where(q => q.First <= b.Last && b.First <= q.Last).OrderBy(q => q.Offset))
            {
                if (offset + size <= q.Offset) break;
                offset = Math.Max(offset, q.Offset + q.Size);
            }
            placed.Add((offset, size, b.First, b.Last));
            arena = Math.Max(arena, offset + size);
            if (b.Key >= 0) offsets[b.Key] = offset;
            else scratchOffsets[-1 - b.Key] = offset;
        }
        if (arena > Array.MaxLength || arena > p.Cap - p.Charged)
            throw new InvalidDataException($"{graph.Source}: the plan for {Describe(graph, symbols)} needs an arena of {arena} " +
                $"floats live at once plus {p.Charged} in tables, above OnnxModelOptions.MaxActivationFloats ({p.Cap}).");

        var constants = new float[]?[count];
        for (int v = 0; v < count; v++)
        {
            constants[v] = p.Floats[root[v]];
            if (root[v] != v) offsets[v] = offsets[root[v]];
        }
        return new Plan(symbols, p.Dims, offsets, constants, p.Ints, steps, scratchOffsets, arena, p.Charged);
    }

    private static string Describe(Graph graph, int[] symbols) =>
        symbols.Length == 0 ? "its inputs" : string.Join(", ", symbols.Select((s, i) => $"{graph.SymbolNames[i]} = {s}"));
}
