using System.Numerics;

namespace Kernels.Nn;

/// <summary>ReLU layer on tensors of any shape.</summary>
public sealed class ReluLayer<T>(IKernelSet<T> kernels) : Layer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private NchwTensor<T>? _x, _y, _dx;

    /// <inheritdoc/>
    public override Shape4 OutputShape(Shape4 input) => input;

    /// <inheritdoc/>
    public override NchwTensor<T> Forward(NchwTensor<T> x)
    {
        NchwTensor<T> y = Reuse(ref _y, x.Shape);
        kernels.ReluForward(x.Span, y.Span);
        _x = x;
        return y;
    }

    /// <inheritdoc/>
    public override NchwTensor<T> Backward(NchwTensor<T> dout)
    {
        NchwTensor<T> x = Saved(_x), dx = Reuse(ref _dx, x.Shape);
        Guard.Shape(dout.Shape, x.Shape, nameof(dout), $"the layer's output");
        kernels.ReluBackward(dout.Span, x.Span, dx.Span);
        return dx;
    }
}

/// <summary>Max pooling layer.</summary>
public sealed class MaxPool2DLayer<T>(IKernelSet<T> kernels, Pool2DParams p) : Layer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private NchwTensor<T>? _x, _y, _dx;

    /// <summary>Window and stride.</summary>
    public Pool2DParams Params => p;

    /// <inheritdoc/>
    public override Shape4 OutputShape(Shape4 input) => Geometry.Pool2DOutput(input, p);

    /// <inheritdoc/>
    public override NchwTensor<T> Forward(NchwTensor<T> x)
    {
        NchwTensor<T> y = Reuse(ref _y, OutputShape(x.Shape));
        kernels.MaxPoolForward(x.ReadOnlyView, p, y.View);
        _x = x;
        return y;
    }

    /// <inheritdoc/>
    public override NchwTensor<T> Backward(NchwTensor<T> dout)
    {
        NchwTensor<T> x = Saved(_x), dx = Reuse(ref _dx, x.Shape);
        kernels.MaxPoolBackward(dout.ReadOnlyView, x.ReadOnlyView, p, dx.View);
        return dx;
    }
}

/// <summary>Average pooling layer.</summary>
public sealed class AvgPool2DLayer<T>(IKernelSet<T> kernels, Pool2DParams p) : Layer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private NchwTensor<T>? _x, _y, _dx;

    /// <summary>Window and stride.</summary>
    public Pool2DParams Params => p;

    /// <inheritdoc/>
    public override Shape4 OutputShape(Shape4 input) => Geometry.Pool2DOutput(input, p);

    /// <inheritdoc/>
    public override NchwTensor<T> Forward(NchwTensor<T> x)
    {
        NchwTensor<T> y = Reuse(ref _y, OutputShape(x.Shape));
        kernels.AvgPoolForward(x.ReadOnlyView, p, y.View);
        _x = x;
        return y;
    }

    /// <inheritdoc/>
    public override NchwTensor<T> Backward(NchwTensor<T> dout)
    {
        NchwTensor<T> x = Saved(_x), dx = Reuse(ref _dx, x.Shape);
        kernels.AvgPoolBackward(dout.ReadOnlyView, x.Shape, p, dx.View);
        return dx;
    }
}

/// <summary>(N, C, H, W) to (N, C*H*W, 1, 1), sharing memory (no copy).</summary>
public sealed class FlattenLayer<T> : Layer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private NchwTensor<T>? _input, _flat, _dout, _dx;

    /// <inheritdoc/>
    public override Shape4 OutputShape(Shape4 input) => new(input.N, input.ImageLength, 1, 1);

    /// <inheritdoc/>
    public override NchwTensor<T> Forward(NchwTensor<T> x)
    {
        // Cache the reshaped view per input object, so steady-state steps allocate nothing.
        if (!ReferenceEquals(x, _input) || _flat!.Shape != OutputShape(x.Shape)) (_input, _flat) = (x, x.Reshape(OutputShape(x.Shape)));
        return _flat;
    }

    /// <inheritdoc/>
    public override NchwTensor<T> Backward(NchwTensor<T> dout)
    {
        NchwTensor<T> x = Saved(_input);
        if (!ReferenceEquals(dout, _dout) || _dx!.Shape != x.Shape) (_dout, _dx) = (dout, dout.Reshape(x.Shape));
        return _dx;
    }
}
