using Kernels.Onnx.Runtime;
using Kernels.Onnx.Schema;

namespace Kernels.Onnx;

/// <summary>A graph input's or output's name, element type and dims (-1 where the model leaves a dimension symbolic: the batch).</summary>
/// <param name="Name">The value's name in the graph.</param>
/// <param name="Dimensions">Dims as the model declares them, -1 for the symbolic batch dimension.</param>
/// <param name="ElementType">typeof(float): the only element type this runtime runs.</param>
public sealed record OnnxValueMetadata(string Name, int[] Dimensions, Type ElementType);

/// <summary>A constant tensor: dims and either float or int64 data (row-major).</summary>
/// <param name="Dims">The tensor's dims.</param>
/// <param name="Floats">Float data, or null.</param>
/// <param name="Int64s">Int64 data (shapes, pads), or null.</param>
public sealed record OnnxTensor(int[] Dims, float[]? Floats = null, long[]? Int64s = null);

/// <summary>How a model runs and how much memory its buffers may take.</summary>
public sealed record OnnxModelOptions
{
    /// <summary>Threads per run: 1 (default) the calling thread, -1 every core, n at most n. Results are bitwise identical for every value.</summary>
    public int MaxDegreeOfParallelism { get; init; } = 1;

    /// <summary>
    /// Cap on the floats of all activation and scratch buffers of one batch size (default 2^28, 1 GiB): a plan
    /// above it is refused with <see cref="InvalidDataException"/>, so a small file cannot declare an input or a
    /// reshape that exhausts memory. Raise it for large batches of large images.
    /// </summary>
    public long MaxActivationFloats { get; init; } = 1L << 28;

    /// <summary>
    /// Graph inputs bound to constants at load, by name (as ONNX Runtime's <c>SessionOptions.AddInitializer</c>):
    /// weights a model takes as inputs, or a shape input of Reshape. Inputs not named here are the run's inputs.
    /// </summary>
    public IReadOnlyDictionary<string, OnnxTensor>? Constants { get; init; }
}

/// <summary>
/// An ONNX model loaded for inference on the library's fast kernels: the graph is checked and its constants folded at
/// load; buffers are planned once per batch size, so a <see cref="Run(ReadOnlySpan{float}, Span{float})"/> with a batch
/// size seen before allocates nothing. Supported ops and limits: docs/api.md. Runs are serialized (one at a time per
/// model); load one model per thread for concurrent inference.
/// </summary>
public sealed class OnnxModel
{
    /// <summary>Files above this size are refused before they are read (the protobuf format caps a model at 2 GiB).</summary>
    public const long MaxFileBytes = int.MaxValue;

    private readonly Op[] _ops;
    private readonly GraphBuilder _graph;
    private readonly Dictionary<int, Plan> _plans = [];
    private readonly Lock _gate = new();

    private OnnxModel(GraphBuilder graph, OnnxModelOptions options)
    {
        _graph = graph;
        _ops = [.. graph.Ops];
        Options = options;
        InputMetadata = graph.Inputs.ToDictionary(i => i.Name, i => new OnnxValueMetadata(i.Name, i.Dims, typeof(float)));
        // Planning the declared batch (1 where it is symbolic) checks every op's shapes at load.
        Plan first = PlanFor(graph.Inputs.Count > 0 && graph.Inputs[0].Dims[0] > 0 ? graph.Inputs[0].Dims[0] : 1);
        OutputMetadata = graph.Outputs.ToDictionary(o => o.Name, o =>
        {
            int[] dims = (int[])first.Values.Dims[o.Index].Clone();
            if (graph.Inputs.Count > 0 && graph.Inputs[0].Dims[0] < 0 && dims.Length > 0) dims[0] = -1;
            return new OnnxValueMetadata(o.Name, dims, typeof(float));
        });
    }

    /// <summary>Inputs by name, in the graph's order.</summary>
    public IReadOnlyDictionary<string, OnnxValueMetadata> InputMetadata { get; }

    /// <summary>Outputs by name, in the graph's order.</summary>
    public IReadOnlyDictionary<string, OnnxValueMetadata> OutputMetadata { get; }

    /// <summary>The options the model was loaded with.</summary>
    public OnnxModelOptions Options { get; }

    /// <summary>Loads a model file. Malformed files throw <see cref="InvalidDataException"/> naming the file and byte offset;
    /// unsupported ops, attributes or types throw <see cref="NotSupportedException"/> naming the node.</summary>
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
        if (stream.CanSeek && stream.Length - stream.Position > MaxFileBytes)
            throw new InvalidDataException($"{source}: offset 0: {stream.Length - stream.Position} bytes is more than an ONNX protobuf can hold ({MaxFileBytes}).");
        using var copy = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            if (copy.Length + read > MaxFileBytes) throw new InvalidDataException($"{source}: offset {copy.Length}: more than {MaxFileBytes} bytes, more than an ONNX protobuf can hold.");
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
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxDegreeOfParallelism, $"options.MaxDegreeOfParallelism must be -1 or positive but is {options.MaxDegreeOfParallelism}.");
        if (options.MaxActivationFloats < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxActivationFloats, $"options.MaxActivationFloats must be positive but is {options.MaxActivationFloats}.");
        ModelMessage model = ModelMessage.Read(bytes, source);
        var graph = new GraphBuilder(model, source, options.Constants);
        if (graph.Inputs.Count == 0) throw new NotSupportedException($"{source}: the graph has no runtime input.");
        if (graph.Outputs.Count == 0) throw new InvalidDataException($"{source}: the graph has no output.");
        return new OnnxModel(graph, options);
    }

    /// <summary>Floats of the first input for a batch of <paramref name="batch"/>.</summary>
    public long InputLength(int batch) => CheckBatch(batch) * PerSample(_graph.Inputs[0].Dims);

    /// <summary>Floats of the first output for a batch of <paramref name="batch"/>.</summary>
    public long OutputLength(int batch)
    {
        CheckBatch(batch);
        lock (_gate) return PlanFor(batch).Values.Data[_graph.Outputs[0].Index].LongLength;
    }

    private long CheckBatch(int batch)
    {
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, $"batch must be at least 1 but is {batch}.");
        int declared = _graph.Inputs[0].Dims[0];
        if (declared > 0 && batch != declared)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"batch is {batch} but the model's batch is fixed at {declared}.");
        return batch;
    }

    /// <summary>
    /// Runs a model with one input and one output. The batch is input.Length / the floats of one sample; it must be
    /// the declared batch unless the model's first dimension is symbolic.
    /// </summary>
    /// <param name="input">The first input, NCHW (or as the model declares it), row-major.</param>
    /// <param name="output">Receives the first output; its length must be <see cref="OutputLength"/> of the batch.</param>
    public void Run(ReadOnlySpan<float> input, Span<float> output)
    {
        if (_graph.Inputs.Count != 1 || _graph.Outputs.Count != 1)
            throw new InvalidOperationException($"The model has {_graph.Inputs.Count} inputs and {_graph.Outputs.Count} outputs; use the named Run.");
        lock (_gate)
        {
            Plan plan = PlanFor(Batch(_graph.Inputs[0], input.Length, "input"));
            input.CopyTo(plan.Values.Data[_graph.Inputs[0].Index]);
            float[] result = plan.Values.Data[_graph.Outputs[0].Index];
            if (output.Length != result.Length) throw new ArgumentException($"output has length {output.Length} but the model gives {result.Length} floats for this batch.", nameof(output));
            Execute(plan);
            result.CopyTo(output);
        }
    }

    /// <summary>Runs a model by input and output names (every input must be given; any subset of outputs may be asked for).</summary>
    /// <param name="inputNames">Names of <paramref name="inputs"/>, as in <see cref="InputMetadata"/>.</param>
    /// <param name="inputs">The inputs, all of the same batch size.</param>
    /// <param name="outputNames">Names of <paramref name="outputs"/>, as in <see cref="OutputMetadata"/>.</param>
    /// <param name="outputs">Receive the outputs; each must have exactly the output's length for this batch.</param>
    public void Run(IReadOnlyList<string> inputNames, IReadOnlyList<ReadOnlyMemory<float>> inputs, IReadOnlyList<string> outputNames, IReadOnlyList<Memory<float>> outputs)
    {
        ArgumentNullException.ThrowIfNull(inputNames);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputNames);
        ArgumentNullException.ThrowIfNull(outputs);
        if (inputNames.Count != inputs.Count) throw new ArgumentException($"inputNames has {inputNames.Count} names but inputs has {inputs.Count} values.", nameof(inputs));
        if (outputNames.Count != outputs.Count) throw new ArgumentException($"outputNames has {outputNames.Count} names but outputs has {outputs.Count} buffers.", nameof(outputs));
        if (inputs.Count != _graph.Inputs.Count) throw new ArgumentException($"the model has {_graph.Inputs.Count} inputs but {inputs.Count} were given.", nameof(inputs));
        lock (_gate)
        {
            int batch = -1;
            for (int i = 0; i < _graph.Inputs.Count; i++)
            {
                int at = IndexOf(inputNames, _graph.Inputs[i].Name, nameof(inputNames));
                int b = Batch(_graph.Inputs[i], inputs[at].Length, $"inputs[{at}]");
                if (batch >= 0 && b != batch) throw new ArgumentException($"inputs[{at}] ('{_graph.Inputs[i].Name}') has batch {b} but an earlier input has {batch}.", nameof(inputs));
                batch = b;
            }
            Plan plan = PlanFor(batch);
            int[] outputIndex = new int[outputs.Count];
            for (int o = 0; o < outputs.Count; o++)
            {
                int k = _graph.Outputs.FindIndex(x => x.Name == outputNames[o]);
                if (k < 0) throw new ArgumentException($"outputNames[{o}] is '{outputNames[o]}', which is not an output of the model.", nameof(outputNames));
                outputIndex[o] = _graph.Outputs[k].Index;
                int length = plan.Values.Data[outputIndex[o]].Length;
                if (outputs[o].Length != length) throw new ArgumentException($"outputs[{o}] ('{outputNames[o]}') has length {outputs[o].Length} but the model gives {length} floats for this batch.", nameof(outputs));
            }
            for (int i = 0; i < _graph.Inputs.Count; i++)
                inputs[IndexOf(inputNames, _graph.Inputs[i].Name, nameof(inputNames))].Span.CopyTo(plan.Values.Data[_graph.Inputs[i].Index]);
            Execute(plan);
            for (int o = 0; o < outputs.Count; o++) plan.Values.Data[outputIndex[o]].CopyTo(outputs[o].Span);
        }
    }

    private static int IndexOf(IReadOnlyList<string> names, string name, string parameter)
    {
        for (int i = 0; i < names.Count; i++)
            if (names[i] == name) return i;
        throw new ArgumentException($"{parameter} does not name the model's input '{name}'.", parameter);
    }

    private void Execute(Plan plan)
    {
        for (int i = 0; i < _ops.Length; i++) _ops[i].Run(plan.Values, plan.Scratch[i], Options.MaxDegreeOfParallelism);
    }

    private static long PerSample(int[] dims)
    {
        long n = 1;
        for (int i = 1; i < dims.Length; i++) n *= dims[i];
        return n;
    }

    private static int Batch((string Name, int Index, int[] Dims) input, int length, string parameter)
    {
        long per = PerSample(input.Dims);
        if (per == 0 || length % per != 0 || length == 0)
            throw new ArgumentException($"{parameter} ('{input.Name}') has length {length}, not a positive multiple of one sample's {per} floats {Op.Format(input.Dims)}.", parameter);
        long batch = length / per;
        if (input.Dims[0] > 0 && batch != input.Dims[0])
            throw new ArgumentException($"{parameter} ('{input.Name}') holds a batch of {batch} but the model's batch is fixed at {input.Dims[0]}.", parameter);
        return (int)batch;
    }

    /// <summary>Dims and buffers for one batch size, made once: a new batch size re-infers every op's shapes.</summary>
    private Plan PlanFor(int batch)
    {
        if (_plans.TryGetValue(batch, out Plan? plan)) return plan;
        var values = new Values(_graph.ValueCount);
        for (int i = 0; i < _graph.ValueCount; i++)
        {
            if (_graph.ConstantDims[i] is not int[] dims) continue;
            values.Dims[i] = dims;
            values.Data[i] = _graph.ConstantFloats[i] ?? [];
            values.Ints[i] = _graph.ConstantInts[i];
        }
        long total = 0;
        foreach (var input in _graph.Inputs)
        {
            int[] dims = (int[])input.Dims.Clone();
            dims[0] = batch;
            values.Dims[input.Index] = dims;
            values.Data[input.Index] = new float[Checked(dims, $"{_graph.Source}: input '{input.Name}'", ref total)];
        }
        var scratch = new float[_ops.Length][];
        for (int i = 0; i < _ops.Length; i++)
        {
            Op op = _ops[i];
            int[] dims = op.Infer(values);
            values.Dims[op.Output] = dims;
            values.Data[op.Output] = op.Aliases ? values.Data[op.Inputs[0]] : new float[Checked(dims, op.Node, ref total)];
            long extra = op.ScratchLength(values);
            scratch[i] = extra == 0 ? [] : new float[Checked([(int)Math.Min(extra, int.MaxValue)], op.Node, ref total)];
        }
        plan = new Plan(values, scratch);
        _plans[batch] = plan;
        return plan;
    }

    private int Checked(int[] dims, string what, ref long total)
    {
        long n = 1;
        foreach (int d in dims)
        {
            if (d < 0) throw new InvalidDataException($"{what}: dimension {d} in {Op.Format(dims)}.");
            n = Math.Min(n * d, long.MaxValue / 2);
        }
        total += n;
        if (n > Array.MaxLength || total > Options.MaxActivationFloats)
            throw new InvalidDataException($"{what}: {Op.Format(dims)} takes the model's buffers to {total} floats, above OnnxModelOptions.MaxActivationFloats ({Options.MaxActivationFloats}).");
        return (int)n;
    }

    private sealed record Plan(Values Values, float[][] Scratch);
}
