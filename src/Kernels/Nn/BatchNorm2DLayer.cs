using System.Numerics;

namespace Kernels.Nn;

/// <summary>
/// Spatial batch normalization over C channels (PyTorch's <c>BatchNorm2d</c>). In training mode
/// (<see cref="Layer{T}.Training"/>, the default) it normalizes with the batch's statistics and updates the running
/// averages; in eval mode it uses the running averages. Parameters <c>{name}.gamma</c> (init 1) and
/// <c>{name}.beta</c> (init 0); buffers <c>{name}.running_mean</c> (0) and <c>{name}.running_var</c> (1, unbiased),
/// which checkpoints hold too (<see cref="Layer{T}.Buffers"/>).
/// </summary>
public sealed class BatchNorm2DLayer<T> : Layer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IKernelSet<T> _kernels;
    private readonly Parameter<T> _gamma, _beta, _runningMean, _runningVar;
    private readonly Parameter<T>[] _parameters, _buffers;
    private readonly T[] _savedMean, _savedInvStd;
    private NchwTensor<T>? _x, _y, _dx;
    private bool _xFromTraining;

    /// <summary>Creates the layer.</summary>
    /// <param name="kernels">The kernels.</param>
    /// <param name="channels">C (&gt;= 1).</param>
    /// <param name="name">Prefix of the parameter and buffer names, unique within a model.</param>
    /// <param name="p">Epsilon and momentum (PyTorch's defaults when omitted).</param>
    public BatchNorm2DLayer(IKernelSet<T> kernels, int channels, string name = "bn", BatchNormParams? p = null)
    {
        ArgumentNullException.ThrowIfNull(kernels);
        Guard.AtLeast(channels, 1, nameof(channels));
        Params = p ?? new BatchNormParams();
        Params.Validate(nameof(p));
        _kernels = kernels;
        _gamma = new Parameter<T>($"{name}.gamma", [channels], isWeight: false);
        _beta = new Parameter<T>($"{name}.beta", [channels], isWeight: false);
        _runningMean = new Parameter<T>($"{name}.running_mean", [channels], isWeight: false);
        _runningVar = new Parameter<T>($"{name}.running_var", [channels], isWeight: false);
        _gamma.Value.AsSpan().Fill(T.One);
        _runningVar.Value.AsSpan().Fill(T.One);
        (_parameters, _buffers) = ([_gamma, _beta], [_runningMean, _runningVar]);
        (_savedMean, _savedInvStd) = (new T[channels], new T[channels]);
    }

    /// <summary>Epsilon and momentum.</summary>
    public BatchNormParams Params { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<Parameter<T>> Parameters => _parameters;

    /// <inheritdoc/>
    public override IReadOnlyList<Parameter<T>> Buffers => _buffers;

    /// <inheritdoc/>
    public override Shape4 OutputShape(Shape4 input)
    {
        Guard.Length(input.C, _gamma.Value.Length, nameof(input), $"the layer's channel count");
        return input;
    }

    /// <inheritdoc/>
    public override NchwTensor<T> Forward(NchwTensor<T> x)
    {
        NchwTensor<T> y = Reuse(ref _y, OutputShape(x.Shape));
        if (Training)
        {
            _kernels.BatchNormForwardTraining(x.ReadOnlyView, _gamma.Value, _beta.Value, Params, y.View, _runningMean.Value, _runningVar.Value,
                _savedMean, _savedInvStd);
            _runningMean.MarkChanged();
            _runningVar.MarkChanged();
        }
        else
        {
            _kernels.BatchNormForwardInference(x.ReadOnlyView, _gamma.Value, _beta.Value, _runningMean.Value, _runningVar.Value, Params.Epsilon, y.View);
        }
        (_x, _xFromTraining) = (x, Training);
        return y;
    }

    /// <inheritdoc/>
    public override NchwTensor<T> Backward(NchwTensor<T> dout)
    {
        NchwTensor<T> x = Saved(_x);
        if (!_xFromTraining) throw new InvalidOperationException("Backward needs a forward pass in training mode (eval mode uses " +
            "fixed statistics).");
        Guard.Shape(dout.Shape, x.Shape, nameof(dout), $"the layer's output");
        NchwTensor<T> dx = Reuse(ref _dx, x.Shape);
        _kernels.BatchNormBackward(dout.ReadOnlyView, x.ReadOnlyView, _gamma.Value, _savedMean, _savedInvStd, dx.View, _gamma.Grad, _beta.Grad);
        return dx;
    }
}
