using System.Runtime.CompilerServices;
using System.Numerics;
using System.Numerics.Tensors;

namespace Kernels.Nn;

/// <summary>
/// Layers run in order; backward in reverse. Build a VGG-style stack (conv3x3-relu-conv3x3-relu-pool ...) or a
/// regressor from the layer classes, then train it with <see cref="SoftmaxLoss"/> / <see cref="MeanSquaredErrorLoss"/>
/// and an update rule. The loss adds <c>0.5 * reg * sum W^2</c> over weights and <c>reg * W</c> to their gradients.
/// </summary>
public sealed class Sequential<T> : Layer<T>, IClassifier<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Layer<T>[] _layers;
    private readonly Parameter<T>[] _parameters, _buffers;
    private readonly IKernelSet<T> _kernels;
    private NchwTensor<T>? _dscores;

    /// <summary>Composes <paramref name="layers"/>; parameter names must be unique.</summary>
    public Sequential(IKernelSet<T> kernels, params Layer<T>[] layers)
    {
        ArgumentNullException.ThrowIfNull(kernels);
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Length == 0) Guard.Throw(nameof(layers), "layers has length 0 but a network needs at least one layer.");
        _kernels = kernels;
        _layers = (Layer<T>[])layers.Clone();
        _parameters = _layers.SelectMany(l => l.Parameters).ToArray();
        _buffers = _layers.SelectMany(l => l.Buffers).ToArray();
        string? dup = _parameters.Concat(_buffers).GroupBy(p => p.Name).FirstOrDefault(g => g.Count() > 1)?.Key;
        if (dup is not null) Guard.Throw(nameof(layers), $"parameter name {dup} appears more than once; names must be unique.");
    }

    /// <summary>L2 regularisation strength (&gt;= 0, finite).</summary>
    public double Reg
    {
        get;
        set
        {
            Guard.Finite(value, nameof(Reg));
            if (value < 0) Guard.ThrowOutOfRange(nameof(Reg), value, $"Reg must be >= 0 but is {value}.");
            field = value;
        }
    }

    /// <summary>The layers, in order.</summary>
    public IReadOnlyList<Layer<T>> Layers => _layers;

    /// <inheritdoc/>
    public override IReadOnlyList<Parameter<T>> Parameters => _parameters;

    /// <inheritdoc/>
    public override IReadOnlyList<Parameter<T>> Buffers => _buffers;

    /// <summary>Training or eval mode of every layer (set on all of them; read from the first).</summary>
    public override bool Training
    {
        get => _layers[0].Training;
        set
        {
            foreach (Layer<T> l in _layers) l.Training = value;
        }
    }

    /// <inheritdoc/>
    public override Shape4 OutputShape(Shape4 input)
    {
        foreach (Layer<T> l in _layers) input = l.OutputShape(input);
        return input;
    }

    /// <inheritdoc/>
    public override NchwTensor<T> Forward(NchwTensor<T> x)
    {
        foreach (Layer<T> l in _layers) x = l.Forward(x);
        return x;
    }

    /// <inheritdoc/>
    public override NchwTensor<T> Backward(NchwTensor<T> dout)
    {
        for (int i = _layers.Length - 1; i >= 0; i--) dout = _layers[i].Backward(dout);
        return dout;
    }

    /// <inheritdoc/>
    public NchwTensor<T> Scores(NchwTensor<T> x) => Forward(x);

    /// <summary>Softmax loss of the scores (N, classes) against <paramref name="labels"/>, plus L2; fills every gradient.</summary>
    public T SoftmaxLoss(NchwTensor<T> x, ReadOnlySpan<int> labels)
    {
        NchwTensor<T> scores = Forward(x);
        NchwTensor<T> d = Reuse(ref _dscores, scores.Shape);
        T loss = _kernels.SoftmaxLoss(scores.ReadOnlyView.AsMatrix(), labels, d.View.AsMatrix());
        Backward(d);
        return loss + Regularize();
    }

    /// <inheritdoc/>
    T IClassifier<T>.Loss(NchwTensor<T> x, ReadOnlySpan<int> labels) => SoftmaxLoss(x, labels);

    /// <summary>Mean-squared error of the outputs (N, M) against <paramref name="targets"/> (N, M), plus L2; fills
    /// every gradient.</summary>
    public T MeanSquaredErrorLoss(NchwTensor<T> x, ReadOnlySpan<T> targets)
    {
        NchwTensor<T> output = Forward(x);
        NchwTensor<T> d = Reuse(ref _dscores, output.Shape);
        var target = new ReadOnlyNchwSpan<T>(targets, output.Shape);
        T loss = _kernels.MeanSquaredError(output.ReadOnlyView.AsMatrix(), target.AsMatrix(), d.View.AsMatrix());
        Backward(d);
        return loss + Regularize();
    }

    /// <summary>
    /// Adds <c>reg * W</c> to each weight's gradient; returns <c>0.5 * reg * sum W^2</c>. The weights are cut into
    /// fixed chunks that threads take in ranges (the kernel set's degree); the chunks' sums of squares are added in
    /// chunk order, so the result does not depend on the thread count.
    /// </summary>
    private T Regularize()
    {
        if (Reg == 0) return T.Zero;
        if (_weights is null)
        {
            _weights = _parameters.Where(p => p.IsWeight).ToArray();
            _firstChunk = new int[_weights.Length + 1];
            for (int i = 0; i < _weights.Length; i++) _firstChunk[i + 1] = _firstChunk[i] + (_weights[i].Value.Length + Chunk - 1) / Chunk;
            _partialSums = new T[_firstChunk[^1]];
        }
        T reg = T.CreateChecked(Reg);
        Parallelism.For(_partialSums!.Length, Threading.Partition.Threads(_kernels.MaxDegreeOfParallelism, (long)_partialSums.Length * Chunk, Chunk),
            new RegularizeChunks(this, reg));
        T sum = T.Zero;
        foreach (T partial in _partialSums) sum += partial;
        return T.CreateChecked(0.5) * reg * sum;
    }

    private const int Chunk = 1 << 15;
    private Parameter<T>[]? _weights;
    private int[] _firstChunk = [0];
    private T[]? _partialSums;

    private readonly struct RegularizeChunks(Sequential<T> net, T reg) : IIndexAction
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Invoke(int chunk)
        {
            int p = Array.BinarySearch(net._firstChunk, chunk);
            if (p < 0) p = ~p - 1;
            Parameter<T> w = net._weights![p];
            int start = (chunk - net._firstChunk[p]) * Chunk, length = Math.Min(Chunk, w.Value.Length - start);
            ReadOnlySpan<T> value = w.Value.AsSpan(start, length);
            Span<T> grad = w.Grad.AsSpan(start, length);
            net._partialSums![chunk] = TensorPrimitives.SumOfSquares(value);
            TensorPrimitives.MultiplyAdd(value, reg, grad, grad); // grad += reg * w
        }
    }
}

/// <summary>A model that scores images and computes a classification loss with gradients (what the solver trains).</summary>
public interface IClassifier<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Class scores (N, classes, 1, 1) for images x (N, C, H, W); owned by the model.</summary>
    NchwTensor<T> Scores(NchwTensor<T> x);
    /// <summary>Data loss plus regularisation; fills the gradient of every parameter.</summary>
    T Loss(NchwTensor<T> x, ReadOnlySpan<int> labels);
    /// <summary>Every trainable parameter.</summary>
    IReadOnlyList<Parameter<T>> Parameters { get; }
}
