using System.Numerics;

namespace Kernels.Nn;

/// <summary>An element-wise activation layer on tensors of any shape, for any <see cref="Activation"/>.</summary>
public sealed class ActivationLayer<T>(IKernelSet<T> kernels, Activation activation) : Layer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private NchwTensor<T>? _x, _y, _dx;

    /// <summary>The function.</summary>
    public Activation Activation => activation;

    /// <inheritdoc/>
    public override Shape4 OutputShape(Shape4 input) => input;

    /// <inheritdoc/>
    public override NchwTensor<T> Forward(NchwTensor<T> x)
    {
        NchwTensor<T> y = Reuse(ref _y, x.Shape);
        kernels.ActivationForward(activation, x.Span, y.Span);
        _x = x;
        return y;
    }

    /// <inheritdoc/>
    public override NchwTensor<T> Backward(NchwTensor<T> dout)
    {
        NchwTensor<T> x = Saved(_x), dx = Reuse(ref _dx, x.Shape);
        Guard.Shape(dout.Shape, x.Shape, nameof(dout), $"the layer's output");
        kernels.ActivationBackward(activation, dout.Span, x.Span, dx.Span);
        return dx;
    }
}

/// <summary>Global average pooling layer: (N, C, H, W) to (N, C, 1, 1).</summary>
public sealed class GlobalAvgPoolLayer<T>(IKernelSet<T> kernels) : Layer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private NchwTensor<T>? _y, _dx;
    private Shape4 _xShape;

    /// <inheritdoc/>
    public override Shape4 OutputShape(Shape4 input) => new(input.N, input.C, 1, 1);

    /// <inheritdoc/>
    public override NchwTensor<T> Forward(NchwTensor<T> x)
    {
        NchwTensor<T> y = Reuse(ref _y, OutputShape(x.Shape));
        kernels.GlobalAvgPoolForward(x.ReadOnlyView, y.View);
        _xShape = x.Shape;
        return y;
    }

    /// <inheritdoc/>
    public override NchwTensor<T> Backward(NchwTensor<T> dout)
    {
        if (_y is null) throw new InvalidOperationException("Backward was called before Forward.");
        NchwTensor<T> dx = Reuse(ref _dx, _xShape);
        kernels.GlobalAvgPoolBackward(dout.ReadOnlyView, dx.View);
        return dx;
    }
}
