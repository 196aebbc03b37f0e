using System.Globalization;

namespace Kernels.Nn;

/// <summary>
/// A trained <see cref="ThreeLayerConvNet{T}"/> for apps: loads a checkpoint written by <see cref="Safetensors.Save{T}"/>
/// (the demo's <c>threelayerconvnet.safetensors</c>), builds the network from the tensors' shapes and answers class
/// probabilities. Safe for concurrent callers: each caller borrows one of a small pool of networks (built on first
/// need, sharing nothing mutable), so a <see cref="Predict(ReadOnlySpan{float}, Span{float})"/> allocates nothing once
/// the pool has a network for every thread that calls at the same time (and the batch size was seen before). A batch
/// runs in slices of at most 2^24 floats per activation, so any count works and buffers stay bounded (a batch of
/// more than one slice reallocates its last slice's buffers on each call).
/// </summary>
public sealed class Classifier
{
    private readonly IReadOnlyList<Parameter<float>> _weights;
    private readonly int _maxSlice;
    private readonly Stack<Network> _idle = new();
    private readonly Lock _gate = new();
    private int _networks;

    private Classifier(ConvNetOptions options, IReadOnlyDictionary<string, string> metadata, int degree, int maxSlice, byte[] checkpoint, string source)
    {
        (Options, Metadata, MaxDegreeOfParallelism, _maxSlice) = (options, metadata, degree, maxSlice);
        // The checkpoint is parsed here, once: the first network's parameters hold its weights and are never written
        // again (predictions only read them), later networks copy them, and the caller's bytes are not kept.
        var first = new Network(this);
        Safetensors.Load(checkpoint, source, first.Parameters); // a bad checkpoint fails here
        _weights = first.Parameters;
        _idle.Push(first);
    }

    /// <summary>The network's shape, read from the checkpoint.</summary>
    public ConvNetOptions Options { get; }

    /// <summary>The checkpoint's metadata (the demo writes model, input and test_accuracy).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Floats of one image: channels x height x width, row-major.</summary>
    public int ImageLength => Options.Channels * Options.Height * Options.Width;

    /// <summary>Number of classes (the length of one image's probabilities).</summary>
    public int Classes => Options.Classes;

    /// <summary>Threads each prediction may use (1: the calling thread; -1: every core).</summary>
    public int MaxDegreeOfParallelism { get; }

    /// <summary>Loads a checkpoint file.</summary>
    /// <exception cref="InvalidDataException">The file is not a ThreeLayerConvNet checkpoint; the message names it and
    /// the byte offset.</exception>
    public static Classifier Load(string path, int maxDegreeOfParallelism = 1)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Load(File.ReadAllBytes(path), Path.GetFileName(path), maxDegreeOfParallelism);
    }

    /// <summary>Loads a checkpoint from a stream (read to its end).</summary>
    public static Classifier Load(Stream stream, string source = "stream", int maxDegreeOfParallelism = 1)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return Load(copy.ToArray(), source, maxDegreeOfParallelism);
    }

    /// <summary>
    /// Loads a checkpoint from its bytes; <paramref name="source"/> names it in error messages. The bytes are parsed
    /// before this returns and not kept: the caller may reuse the array.
    /// </summary>
    /// <exception cref="InvalidDataException">The bytes are not a ThreeLayerConvNet checkpoint (sizes that do not
    /// fit an <see cref="int"/> included); the message names the source and the byte offset.</exception>
    public static Classifier Load(byte[] checkpoint, string source = "bytes", int maxDegreeOfParallelism = 1)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(source);
        Parallelism.Resolve(maxDegreeOfParallelism); // validates
        var (metadata, tensors) = Safetensors.Describe(checkpoint, source);
        long[] Shape(string name, int rank) => tensors.TryGetValue(name, out var t) && t.DType == "F32" && t.Shape.Length == rank
            && t.Shape.All(d => d is > 0 and <= int.MaxValue)
            ? t.Shape
            : throw new InvalidDataException($"{source}: at offset 8: a ThreeLayerConvNet checkpoint needs an F32 tensor {name} " +
                $"of rank {rank}.");
        long[] w1 = Shape("W1", 4), w2 = Shape("W2", 2), w3 = Shape("W3", 2);
        if (w1[2] != w1[3]) throw new InvalidDataException($"{source}: at offset 8: W1 has {w1[2]}x{w1[3]} filters; " +
            $"ThreeLayerConvNet's are square.");
        // The image size is in the metadata ("CxHxW"); the flattened pooled size W2 must agree with it.
        int[] input = metadata.TryGetValue("input", out string? text) ? text.Split('x').Select(v => int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int d) ? d : -1).ToArray() : [];
        if (input.Length != 3 || input.Any(d => d < 1) || input[0] != w1[1])
            throw new InvalidDataException($"{source}: at offset 8: the metadata's input must be CxHxW with C = {w1[1]} (W1's " +
                $"channels), but is '{text}'.");
        var options = new ConvNetOptions(input[0], input[1], input[2], (int)w1[0], (int)w1[2], (int)w2[1], (int)w3[1], WeightScale: 1e-3);
        // One image through the network by the network's own geometry (an even filter size takes a row and a column
        // off the image); an image or activation too large for an int-indexed span is the file's fault, not an argument's.
        Shape4 image, conv, pooled;
        try
        {
            image = new Shape4(1, options.Channels, options.Height, options.Width);
            conv = Geometry.Conv2DOutput(image, new Shape4(options.Filters, options.Channels, options.FilterSize, options.FilterSize), options.Filters,
                options.ConvParams);
            pooled = Geometry.Pool2DOutput(conv, ConvNetOptions.Pool);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{source}: at offset 8: images of {text} do not fit a network with {w1[0]} " +
                $"{w1[2]}x{w1[3]} filters ({e.Message})", e);
        }
        if (w2[0] != pooled.Length || w3[0] != w2[1])
            throw new InvalidDataException($"{source}: at offset 8: W2 {w2[0]}x{w2[1]} and W3 {w3[0]}x{w3[1]} do not fit images " +
                $"of {text} with {w1[0]} {w1[2]}x{w1[3]} filters.");
        int largest = Math.Max(Math.Max(image.Length, conv.Length), Math.Max(options.Hidden, options.Classes));
        return new Classifier(options, metadata, maxDegreeOfParallelism, Math.Max(1, MaxSliceFloats / largest), checkpoint, source);
    }

    /// <summary>
    /// Floats of the largest activation of one slice of a batch (64 MB): a larger batch runs in slices of
    /// <see cref="MaxSlice"/> images, so a call's buffers stay bounded and int-indexed however many images it is given.
    /// </summary>
    internal const int MaxSliceFloats = 1 << 24;

    /// <summary>Images per slice of a batch (see <see cref="MaxSliceFloats"/>).</summary>
    internal int MaxSlice => _maxSlice;

    /// <summary>Networks built so far (the pool's size).</summary>
    internal int Networks => Volatile.Read(ref _networks);

    /// <summary>Class probabilities (softmax of the scores) of one image.</summary>
    /// <param name="image">C x H x W floats, preprocessed as for training (the demo's digits are pixels / 255 in [0,
    /// 1]; its CIFAR-10 runs also subtract the training mean image).</param>
    /// <param name="probabilities">Receives <see cref="Classes"/> probabilities.</param>
    public void Predict(ReadOnlySpan<float> image, Span<float> probabilities) => Predict(image, 1, probabilities);

    /// <summary>Class probabilities of <paramref name="count"/> images at once (faster per image than one by one).</summary>
    /// <param name="images">count x C x H x W floats.</param>
    /// <param name="count">Number of images, at least 1.</param>
    /// <param name="probabilities">Receives count x <see cref="Classes"/> probabilities, image by image.</param>
    public void Predict(ReadOnlySpan<float> images, int count, Span<float> probabilities)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, $"count must be at least 1 but is {count}.");
        if (images.Length != (long)count * ImageLength)
            throw new ArgumentException($"images has length {images.Length} but {count} image(s) of " +
                $"{Options.Channels}x{Options.Height}x{Options.Width} need {(long)count * ImageLength}.", nameof(images));
        if (probabilities.Length != (long)count * Classes)
            throw new ArgumentException($"probabilities has length {probabilities.Length} but {count} image(s) of {Classes} " +
                $"classes need {(long)count * Classes}.", nameof(probabilities));
        // A NaN or inf pixel would spread through the convolution into every probability: refuse it by position.
        int bad = images.IndexOfAnyExceptInRange(float.MinValue, float.MaxValue);
        if (bad >= 0)
            throw new ArgumentException($"images[{bad}] (image {bad / ImageLength}, pixel {bad % ImageLength}) is {images[bad]}; " +
                $"pixels must be finite.", nameof(images));
        Network net = Rent();
        try
        {
            // An image's probabilities do not depend on the batch it is in, so slices give the batch's bits.
            for (int start = 0, n; start < count; start += n)
            {
                n = Math.Min(_maxSlice, count - start);
                ReadOnlySpan<float> scores = net.Scores(images.Slice(start * ImageLength, n * ImageLength), n);
                for (int i = 0; i < n; i++)
                    Losses.Probabilities(scores.Slice(i * Classes, Classes), probabilities.Slice((start + i) * Classes, Classes));
            }
        }
        finally
        {
            Return(net);
        }
    }

    /// <summary>An idle network, or a new one with the loaded weights.</summary>
    internal Network Rent()
    {
        lock (_gate)
            if (_idle.TryPop(out Network? net)) return net;
        var built = new Network(this);
        for (int i = 0; i < _weights.Count; i++)
        {
            _weights[i].Value.CopyTo(built.Parameters[i].Value, 0);
            built.Parameters[i].MarkChanged();
        }
        return built;
    }

    internal void Return(Network net)
    {
        lock (_gate) _idle.Push(net);
    }

    /// <summary>One caller's network: its own layers and buffers; the caller fills its parameters.</summary>
    internal sealed class Network
    {
        private readonly ThreeLayerConvNet<float> _net;
        private float[] _input = [];
        private NchwTensor<float>? _x;

        public Network(Classifier owner)
        {
            _net = new ThreeLayerConvNet<float>(new FastKernels(owner.MaxDegreeOfParallelism), owner.Options);
            Interlocked.Increment(ref owner._networks);
        }

        public IReadOnlyList<Parameter<float>> Parameters => _net.Parameters;

        public ReadOnlySpan<float> Scores(ReadOnlySpan<float> images, int count)
        {
            var shape = new Shape4(count, _net.Options.Channels, _net.Options.Height, _net.Options.Width);
            if (_x is null || _x.Shape != shape)
            {
                _input = new float[shape.Length];
                _x = NchwTensor<float>.Wrap(_input, shape);
            }
            images.CopyTo(_input);
            return _net.Scores(_x).Span;
        }
    }
}
