using System.Globalization;

namespace Kernels.Nn;

/// <summary>
/// A trained <see cref="ThreeLayerConvNet{T}"/> for apps: loads a checkpoint written by <see cref="Safetensors.Save{T}"/>
/// (the demo's <c>threelayerconvnet.safetensors</c>), builds the network from the tensors' shapes and answers class
/// probabilities. Safe for concurrent callers: each caller borrows one of a small pool of networks (built on first
/// need, sharing nothing mutable), so a <see cref="Predict(ReadOnlySpan{float}, Span{float})"/> allocates nothing once
/// the pool has a network for every thread that calls at the same time (and the batch size was seen before).
/// </summary>
public sealed class Classifier
{
    private readonly byte[] _checkpoint;
    private readonly string _source;
    private readonly Stack<Network> _idle = new();
    private readonly Lock _gate = new();

    private Classifier(byte[] checkpoint, string source, ConvNetOptions options, IReadOnlyDictionary<string, string> metadata, int degree)
    {
        (_checkpoint, _source, Options, Metadata, MaxDegreeOfParallelism) = (checkpoint, source, options, metadata, degree);
        _idle.Push(new Network(this)); // loads the weights once now, so a bad checkpoint fails here
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
    /// <exception cref="InvalidDataException">The file is not a ThreeLayerConvNet checkpoint; the message names it and the byte offset.</exception>
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

    /// <summary>Loads a checkpoint from its bytes; <paramref name="source"/> names it in error messages.</summary>
    public static Classifier Load(byte[] checkpoint, string source = "bytes", int maxDegreeOfParallelism = 1)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        Parallelism.Resolve(maxDegreeOfParallelism); // validates
        var (metadata, tensors) = Safetensors.Describe(checkpoint, source);
        long[] Shape(string name, int rank) => tensors.TryGetValue(name, out var t) && t.Shape.Length == rank && t.Shape.All(d => d is > 0 and <= int.MaxValue)
            ? t.Shape
            : throw new InvalidDataException($"{source}: at offset 8: a ThreeLayerConvNet checkpoint needs a tensor {name} of rank {rank}.");
        long[] w1 = Shape("W1", 4), w2 = Shape("W2", 2), w3 = Shape("W3", 2);
        if (w1[2] != w1[3]) throw new InvalidDataException($"{source}: at offset 8: W1 has {w1[2]}x{w1[3]} filters; ThreeLayerConvNet's are square.");
        // The image size is in the metadata ("CxHxW"); the flattened pooled size W2 must agree with it.
        int[] input = metadata.TryGetValue("input", out string? text) ? text.Split('x').Select(v => int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int d) ? d : -1).ToArray() : [];
        if (input.Length != 3 || input.Any(d => d < 1) || input[0] != w1[1])
            throw new InvalidDataException($"{source}: at offset 8: the metadata's input must be CxHxW with C = {w1[1]} (W1's channels), but is '{text}'.");
        var options = new ConvNetOptions(input[0], input[1], input[2], (int)w1[0], (int)w1[2], (int)w2[1], (int)w3[1], WeightScale: 1e-3);
        long pooled = (long)w1[0] * (input[1] / 2) * (input[2] / 2);
        if (w2[0] != pooled || w3[0] != w2[1])
            throw new InvalidDataException($"{source}: at offset 8: W2 {w2[0]}x{w2[1]} and W3 {w3[0]}x{w3[1]} do not fit images of {text} with {w1[0]} filters.");
        return new Classifier(checkpoint, source, options, metadata, maxDegreeOfParallelism);
    }

    /// <summary>Class probabilities (softmax of the scores) of one image.</summary>
    /// <param name="image">C x H x W floats, preprocessed as for training (the demo's digits are pixels / 255 in [0, 1]; its CIFAR-10 runs also subtract the training mean image).</param>
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
            throw new ArgumentException($"images has length {images.Length} but {count} image(s) of {Options.Channels}x{Options.Height}x{Options.Width} need {(long)count * ImageLength}.", nameof(images));
        if (probabilities.Length != (long)count * Classes)
            throw new ArgumentException($"probabilities has length {probabilities.Length} but {count} image(s) of {Classes} classes need {(long)count * Classes}.", nameof(probabilities));
        // A NaN or inf pixel would spread through the convolution into every probability: refuse it by position.
        int bad = images.IndexOfAnyExceptInRange(float.MinValue, float.MaxValue);
        if (bad >= 0)
            throw new ArgumentException($"images[{bad}] (image {bad / ImageLength}, pixel {bad % ImageLength}) is {images[bad]}; pixels must be finite.", nameof(images));
        Network net = Rent();
        try
        {
            ReadOnlySpan<float> scores = net.Scores(images, count);
            for (int n = 0; n < count; n++)
                Losses.Probabilities(scores.Slice(n * Classes, Classes), probabilities.Slice(n * Classes, Classes));
        }
        finally
        {
            Return(net);
        }
    }

    private Network Rent()
    {
        lock (_gate)
            if (_idle.TryPop(out Network? net)) return net;
        return new Network(this);
    }

    private void Return(Network net)
    {
        lock (_gate) _idle.Push(net);
    }

    /// <summary>One caller's network: its own layers and buffers, the checkpoint's weights.</summary>
    private sealed class Network
    {
        private readonly ThreeLayerConvNet<float> _net;
        private float[] _input = [];
        private NchwTensor<float>? _x;

        public Network(Classifier owner)
        {
            _net = new ThreeLayerConvNet<float>(new FastKernels(owner.MaxDegreeOfParallelism), owner.Options);
            Safetensors.Load(owner._checkpoint, owner._source, _net.Parameters);
        }

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
