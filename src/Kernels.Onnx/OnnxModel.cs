using System.Collections.ObjectModel;
using Kernels.Onnx.Runtime;
using Kernels.Onnx.Runtime.Passes;
using Kernels.Onnx.Schema;

namespace Kernels.Onnx;

/// <summary>A graph input's or output's name, element type and dims (-1 where the model leaves a dimension symbolic).</summary>
/// <param name="Name">The value's name in the graph.</param>
/// <param name="Dimensions">Dims as the model declares them, -1 for a symbolic dimension (read-only: a copy of the model's).</param>
/// <param name="ElementType">typeof(float): the only element type this runtime runs.</param>
public sealed record OnnxValueMetadata(string Name, IReadOnlyList<int> Dimensions, Type ElementType);

/// <summary>One node's share of a profiled run (<see cref="OnnxModel.Profile"/>), in the order the nodes run.</summary>
/// <param name="Name">The node's name in the file ("#7" for the 8th node when it has none).</param>
/// <param name="OpType">Its op type.</param>
/// <param name="OutputName">Its first output's value name (ONNX Runtime names nodes it rewrites after it).</param>
/// <param name="OutputDimensions">Its first output's dims in this run.</param>
/// <param name="Detail">What it ran, where that varies: the algorithm a Conv picked, its groups, a padded copy.</param>
/// <param name="MedianMicroseconds">The median over the profiled runs of the node's wall time.</param>
/// <param name="MinMicroseconds">The fastest of them.</param>
public sealed record OnnxNodeProfile(string Name, string OpType, string OutputName, IReadOnlyList<int> OutputDimensions,
    string Detail, double MedianMicroseconds,
    double MinMicroseconds);

/// <summary>A constant tensor: dims and either float or int64 data (row-major).</summary>
/// <param name="Dims">The tensor's dims.</param>
/// <param name="Floats">Float data, or null.</param>
/// <param name="Int64s">Int64 data (shapes, pads), or null.</param>
public sealed record OnnxTensor(int[] Dims, float[]? Floats = null, long[]? Int64s = null);

/// <summary>How a model runs and how much memory its buffers may take.</summary>
public sealed record OnnxModelOptions
{
    /// <summary>Threads per run: 1 (default) the calling thread, -1 every core, n at most n. Results are bitwise
    /// identical for every value.</summary>
    public int MaxDegreeOfParallelism { get; init; } = 1;

    /// <summary>
    /// Cap on the floats one plan (one set of input dims) may hold: the buffers live at the same time (values whose
    /// lifetimes do not meet share memory), scratch, and the tables ops build (default 2^28, 1 GiB). A plan or a
    /// constant computation above it is refused with <see cref="InvalidDataException"/> before it is allocated, so a
    /// small file cannot declare an input or a reshape that exhausts memory. Raise it for large batches of large images.
    /// </summary>
    public long MaxActivationFloats { get; init; } = 1L << 28;

    /// <summary>
    /// Graph inputs bound to constants at load, by name (as ONNX Runtime's <c>SessionOptions.AddInitializer</c>):
    /// weights a model takes as inputs, or a shape input of Reshape. Inputs not named here are the run's inputs.
    /// The tensors are copied: the caller may reuse them after the load.
    /// </summary>
    public IReadOnlyDictionary<string, OnnxTensor>? Constants { get; init; }
}

/// <summary>
/// An ONNX model loaded for inference on the library's fast kernels: the graph is checked, its constants folded and
/// its weights prepared at load; a plan (every value's dims, buffers placed by lifetime in one arena) is made per set
/// of input dims and the last <see cref="MaxPlans"/> are kept, so a <see cref="Run(ReadOnlySpan{float}, Span{float})"/>
/// with dims seen before allocates nothing. Concurrent runs on one model are safe and run in parallel (each takes an
/// arena of its own; only the lookup of the plan is serialized). Supported ops and limits: docs/api.md.
/// </summary>
public sealed class OnnxModel
{
    /// <summary>Files above this size are refused before they are read (the protobuf format caps a model at 2 GiB).</summary>
    public const long MaxFileBytes = int.MaxValue;

    /// <summary>Plans kept at once (least recently used dropped first): a server seeing batch sizes 1..64 holds four, not 64.</summary>
    public const int MaxPlans = 4;

    private readonly Graph _graph;
    private readonly Op[] _ops;
    private readonly int[] _outputValues;
    private readonly List<Plan> _plans = new(MaxPlans + 1); // most recently used last
    private readonly Lock _gate = new();

    private OnnxModel(Graph graph, Op[] ops, OnnxModelOptions options)
    {
        (_graph, _ops, Options) = (graph, ops, options);
        _outputValues = [.. graph.Outputs.Select(o => o.Value)];
        InputMetadata = new ReadOnlyDictionary<string, OnnxValueMetadata>(graph.Inputs.ToDictionary(i => i.Name,
            i => new OnnxValueMetadata(i.Name, Array.AsReadOnly(i.Declared), typeof(float))));
        // Planning every symbol at 1 checks every op's shapes at load; planning them at 2 as well shows which output
        // dims follow them (a model whose reshapes fix the batch fails there, and its outputs are fixed).
        int symbols = graph.SymbolNames.Count;
        Plan first = Build(Enumerable.Repeat(1, symbols).ToArray());
        Plan? second = null;
        if (symbols > 0)
        {
            try { second = Build(Enumerable.Repeat(2, symbols).ToArray()); }
            catch (InvalidDataException) { }
        }
        lock (_gate) _plans.Add(first);
        var outputs = new Dictionary<string, OnnxValueMetadata>();
        foreach ((string name, int value) in graph.Outputs)
        {
            int[] dims = [.. first.Dims[value]!.Select((d, i) => second is not null && second.Dims[value]![i] != d ? -1 : d)];
            outputs.TryAdd(name, new OnnxValueMetadata(name, Array.AsReadOnly(dims), typeof(float)));
        }
        OutputMetadata = new ReadOnlyDictionary<string, OnnxValueMetadata>(outputs);
    }

    /// <summary>Inputs by name, in the graph's order.</summary>
    public IReadOnlyDictionary<string, OnnxValueMetadata> InputMetadata { get; }

    /// <summary>Outputs by name, in the graph's order (an output the graph lists twice appears once).</summary>
    public IReadOnlyDictionary<string, OnnxValueMetadata> OutputMetadata { get; }

    /// <summary>The options the model was loaded with.</summary>
    public OnnxModelOptions Options { get; }

    /// <summary>Plans kept now (at most <see cref="MaxPlans"/>).</summary>
    internal int PlanCount
    {
        get
        {
            lock (_gate) return _plans.Count;
        }
    }

    /// <summary>Loads a model file. Malformed files throw <see cref="InvalidDataException"/> naming the file and byte offset
    /// or node; unsupported ops, attributes or types throw <see cref="NotSupportedException"/> naming the node.</summary>
    public static OnnxModel Load(string path, OnnxModelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        using FileStream stream = File.OpenRead(path);
        return Load(stream, Path.GetFileName(path), options);
    }

    /// <summary>Loads a model from a stream (read to its end); <paramref name="source"/> names it in error messages.</summary>
    public static OnnxModel Load(Stream stream, string source = "stream", OnnxModelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (stream.CanSeek && stream.Length - stream.Position <= MaxFileBytes)
        {
            // A file (or any stream of known length) is read once into an array of its size, not grown by doubling.
            var bytes = new byte[stream.Length - stream.Position];
            stream.ReadExactly(bytes);
            return Load(bytes, source, options);
        }
        if (stream.CanSeek && stream.Length - stream.Position > MaxFileBytes)
            throw new InvalidDataException($"{source}: offset 0: {stream.Length - stream.Position} bytes is more than an ONNX " +
                $"protobuf can hold ({MaxFileBytes}).");
        using var copy = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            if (copy.Length + read > MaxFileBytes) throw new InvalidDataException($"{source}: offset {copy.Length}: more than " +
                $"{MaxFileBytes} bytes, more than an ONNX protobuf can hold.");
            copy.Write(buffer, 0, read);
        }
        return Load(copy.GetBuffer().AsSpan(0, (int)copy.Length), source, options);
    }

    /// <summary>Loads a model from its bytes; <paramref name="source"/> names it in error messages.</summary>
    public static OnnxModel Load(ReadOnlySpan<byte> bytes, string source = "bytes", OnnxModelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        options ??= new OnnxModelOptions();
        if (options.MaxDegreeOfParallelism == 0 || options.MaxDegreeOfParallelism < -1)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxDegreeOfParallelism,
                $"options.MaxDegreeOfParallelism must be -1 or positive but is {options.MaxDegreeOfParallelism}.");
        if (options.MaxActivationFloats < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxActivationFloats, $"options.MaxActivationFloats " +
                $"must be positive but is {options.MaxActivationFloats}.");
        Graph graph = GraphReader.Read(ModelMessage.Read(bytes, source), source, options);
        if (graph.Inputs.Count == 0) throw new NotSupportedException($"{source}: the graph has no runtime input.");
        if (graph.Outputs.Count == 0) throw new InvalidDataException($"{source}: the graph has no output.");
        ConstantFolding.Run(graph, options.MaxActivationFloats);
        ConvBatchNormFolding.Run(graph);
        int[] readers = graph.Readers();
        Op[] ops = [.. graph.Nodes.Select(n => OpRegistry.Create(new OpContext(graph, n, readers)))];
        return new OnnxModel(graph, ops, options);
    }

    /// <summary>Floats of the first input for a batch of <paramref name="batch"/> (every symbolic dimension set to it).</summary>
    public long InputLength(int batch)
    {
        CheckBatch(batch);
        GraphInput input = _graph.Inputs[0];
        return input.SymbolicAxis < 0 ? input.PerSymbol : input.PerSymbol * batch;
    }

    /// <summary>Floats of the first output for a batch of <paramref name="batch"/> (every symbolic dimension set to it).</summary>
    public long OutputLength(int batch)
    {
        CheckBatch(batch);
        Span<int> symbols = stackalloc int[_graph.SymbolNames.Count];
        symbols.Fill(batch);
        return PlanFor(symbols).Length(_outputValues[0]);
    }

    /// <summary>
    /// Bytes of the arena a run of <paramref name="batch"/> (every symbolic dimension set to it) uses, plus the tables
    /// planning made: the planned peak of the activations, which buffers whose lifetimes do not meet share.
    /// </summary>
    public long PlannedBytes(int batch)
    {
        CheckBatch(batch);
        Span<int> symbols = stackalloc int[_graph.SymbolNames.Count];
        symbols.Fill(batch);
        Plan plan = PlanFor(symbols);
        return (plan.ArenaFloats + plan.ChargedFloats) * sizeof(float);
    }

    private void CheckBatch(int batch)
    {
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, $"batch must be at least 1 but is {batch}.");
        GraphInput first = _graph.Inputs[0];
        int declared = first.Fixed.Length > 0 && first.Symbols[0] < 0 ? first.Fixed[0] : 1;
        if (_graph.SymbolNames.Count == 0 && batch != declared)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"batch is {batch} but the model's batch is fixed at {declared}.");
    }

    /// <summary>
    /// Runs a model with one input and one output. The size of the input's symbolic dimension (the batch) is
    /// input.Length / the floats of the rest; an input without one must have exactly its declared length.
    /// </summary>
    /// <param name="input">The input, NCHW (or as the model declares it), row-major.</param>
    /// <param name="output">Receives the output; its length must be <see cref="OutputLength"/> of the batch.</param>
    public void Run(ReadOnlySpan<float> input, Span<float> output)
    {
        if (_graph.Inputs.Count != 1 || _graph.Outputs.Count != 1)
            throw new InvalidOperationException($"The model has {_graph.Inputs.Count} inputs and {_graph.Outputs.Count} outputs; " +
                $"use the named Run.");
        Span<int> symbols = stackalloc int[_graph.SymbolNames.Count];
        symbols.Fill(-1);
        Resolve(_graph.Inputs[0], input.Length, nameof(input), -1, symbols);
        Plan plan = PlanFor(symbols);
        int result = plan.Length(_outputValues[0]);
        if (output.Length != result) throw new ArgumentException($"output has length {output.Length} but the model gives " +
            $"{result} floats for this input.", nameof(output));
        Frame f = plan.Rent();
        try
        {
            input.CopyTo(f.Write(_graph.Inputs[0].Value));
            Execute(f);
            f.Read(_outputValues[0]).CopyTo(output);
        }
        finally
        {
            plan.Return(f);
        }
    }

    /// <summary>
    /// Runs a model by input and output names: every input must be given; any subset of outputs may be asked for.
    /// Each input's symbolic dimension takes its size from the input's length; inputs that share a named symbol must
    /// agree on it. Once a set of input dims is planned, a call allocates nothing.
    /// </summary>
    /// <param name="inputNames">Names of <paramref name="inputs"/>, as in <see cref="InputMetadata"/>.</param>
    /// <param name="inputs">The inputs, row-major.</param>
    /// <param name="outputNames">Names of <paramref name="outputs"/>, as in <see cref="OutputMetadata"/>.</param>
    /// <param name="outputs">Receive the outputs; each must have exactly the output's length for these inputs.</param>
    public void Run(IReadOnlyList<string> inputNames, IReadOnlyList<ReadOnlyMemory<float>> inputs,
        IReadOnlyList<string> outputNames, IReadOnlyList<Memory<float>> outputs)
    {
        ArgumentNullException.ThrowIfNull(inputNames);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputNames);
        ArgumentNullException.ThrowIfNull(outputs);
        if (inputNames.Count != inputs.Count) throw new ArgumentException($"inputNames has {inputNames.Count} names but inputs " +
            $"has {inputs.Count} values.", nameof(inputs));
        if (outputNames.Count != outputs.Count) throw new ArgumentException($"outputNames has {outputNames.Count} names but " +
            $"outputs has {outputs.Count} buffers.", nameof(outputs));
        if (inputs.Count != _graph.Inputs.Count) throw new ArgumentException($"the model has {_graph.Inputs.Count} inputs but " +
            $"{inputs.Count} were given.", nameof(inputs));
        Span<int> symbols = stackalloc int[_graph.SymbolNames.Count];
        symbols.Fill(-1);
        foreach (GraphInput input in _graph.Inputs)
        {
            int at = IndexOf(inputNames, input.Name, nameof(inputNames));
            Resolve(input, inputs[at].Length, nameof(inputs), at, symbols);
        }
        Plan plan = PlanFor(symbols);
        for (int o = 0; o < outputs.Count; o++)
        {
            int length = plan.Length(OutputValue(outputNames[o], o));
            if (outputs[o].Length != length)
                throw new ArgumentException($"outputs[{o}] ('{outputNames[o]}') has length {outputs[o].Length} but the model " +
                    $"gives {length} floats for these inputs.", nameof(outputs));
        }
        Frame f = plan.Rent();
        try
        {
            foreach (GraphInput input in _graph.Inputs) inputs[IndexOf(inputNames, input.Name,
                nameof(inputNames))].Span.CopyTo(f.Write(input.Value));
            Execute(f);
            for (int o = 0; o < outputs.Count; o++) f.Read(OutputValue(outputNames[o], o)).CopyTo(outputs[o].Span);
        }
        finally
        {
            plan.Return(f);
        }
    }

    /// <summary>
    /// Runs a one-input model <paramref name="runs"/> times (after one warm-up run) timing every node, for finding where
    /// the time goes (perf's <c>--profile</c> prints it beside ONNX Runtime's own profile of the same model). Nodes
    /// folded at load (constants, batch norms into convs) do not appear; views (Reshape, Flatten) take no time.
    /// </summary>
    /// <param name="input">The input, as for <see cref="Run(ReadOnlySpan{float}, Span{float})"/>.</param>
    /// <param name="runs">Timed runs (at least 1).</param>
    public IReadOnlyList<OnnxNodeProfile> Profile(ReadOnlySpan<float> input, int runs = 20)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        if (_graph.Inputs.Count != 1)
            throw new InvalidOperationException($"The model has {_graph.Inputs.Count} inputs; Profile runs one-input models.");
        Span<int> symbols = stackalloc int[_graph.SymbolNames.Count];
        symbols.Fill(-1);
        Resolve(_graph.Inputs[0], input.Length, nameof(input), -1, symbols);
        Plan plan = PlanFor(symbols);
        var ticks = new long[plan.Steps.Length, runs];
        Frame f = plan.Rent();
        try
        {
            f.Degree = Options.MaxDegreeOfParallelism;
            for (int run = -1; run < runs; run++)
            {
                input.CopyTo(f.Write(_graph.Inputs[0].Value));
                for (int i = 0; i < plan.Steps.Length; i++)
                {
                    f.Step = i;
                    long start = System.Diagnostics.Stopwatch.GetTimestamp();
                    plan.Steps[i].Run(f);
                    if (run >= 0) ticks[i, run] = System.Diagnostics.Stopwatch.GetTimestamp() - start;
                }
            }
        }
        finally
        {
            plan.Return(f);
        }
        var profile = new List<OnnxNodeProfile>(_ops.Length);
        double perMicrosecond = System.Diagnostics.Stopwatch.Frequency / 1e6;
        for (int i = 0; i < _ops.Length; i++)
        {
            long[] times = [.. Enumerable.Range(0, runs).Select(r => ticks[i, r]).Order()];
            double median = runs % 2 == 1 ? times[runs / 2] : (times[runs / 2 - 1] + times[runs / 2]) / 2.0;
            profile.Add(new OnnxNodeProfile(_ops[i].Name, _ops[i].OpType, _graph.Names[_ops[i].Output],
                Array.AsReadOnly((int[])plan.Dims[_ops[i].Output]!.Clone()),
                plan.Steps[i].Detail, median / perMicrosecond, times[0] / perMicrosecond));
        }
        return profile;
    }

    private int OutputValue(string name, int position)
    {
        foreach ((string n, int value) in _graph.Outputs)
            if (n == name) return value;
        throw new ArgumentException($"outputNames[{position}] is '{name}', which is not an output of the model.", "outputNames");
    }

    private static int IndexOf(IReadOnlyList<string> names, string name, string parameter)
    {
        for (int i = 0; i < names.Count; i++)
            if (names[i] == name) return i;
        throw new ArgumentException($"{parameter} does not name the model's input '{name}'.", parameter);
    }

    private void Execute(Frame f)
    {
        f.Degree = Options.MaxDegreeOfParallelism;
        Step[] steps = f.Plan.Steps;
        for (int i = 0; i < steps.Length; i++)
        {
            f.Step = i;
            steps[i].Run(f);
        }
    }

    /// <summary>Sets the symbol of <paramref name="input"/> from its length, or checks the length of an input without one.</summary>
    // position: the input's index in the named Run's list, or -1 for the span Run's single input.
    private void Resolve(GraphInput input, int length, string parameter, int position, Span<int> symbols)
    {
        long per = input.PerSymbol;
        int axis = input.SymbolicAxis;
        string Named() => position < 0 ? $"{parameter} ('{input.Name}')" : $"{parameter}[{position}] ('{input.Name}')";
        if (axis < 0)
        {
            if (length != per) throw new ArgumentException($"{Named()} has length {length} but the model's input " +
                $"{Op.Format(input.Fixed)} has {per} floats.", parameter);
            return;
        }
        if (length == 0 || length % per != 0)
            throw new ArgumentException($"{Named()} has length {length}, not a positive multiple of " +
                $"{(axis == 0 ? "one sample's" : "the")} {per} floats " +
                    $"{(axis == 0 ? "" : "per unit of its symbolic dimension ")}{Op.Format(input.Declared)}.", parameter);
        int symbol = input.Symbols[axis], size = (int)(length / per);
        if (symbols[symbol] >= 0 && symbols[symbol] != size)
            throw new ArgumentException($"{Named()} gives {_graph.SymbolNames[symbol]} = {size} but an earlier input gives " +
                $"{symbols[symbol]}.", parameter);
        symbols[symbol] = size;
    }

    /// <summary>The plan for these symbol values: a kept one (no allocation), or a new one that replaces the least recently used.</summary>
    private Plan PlanFor(ReadOnlySpan<int> symbols)
    {
        lock (_gate)
        {
            for (int i = _plans.Count - 1; i >= 0; i--)
            {
                Plan plan = _plans[i];
                if (!symbols.SequenceEqual(plan.Symbols)) continue;
                _plans.RemoveAt(i);
                _plans.Add(plan);
                return plan;
            }
            Plan made = Build(symbols.ToArray());
            if (_plans.Count == MaxPlans) _plans.RemoveAt(0);
            _plans.Add(made);
            return made;
        }
    }

    private Plan Build(int[] symbols) => Planner.Build(_graph, _ops, symbols, _outputValues, Options.MaxActivationFloats);
}
