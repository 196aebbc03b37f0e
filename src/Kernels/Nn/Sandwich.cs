using System.Numerics;

namespace Kernels.Nn;

/// <summary>conv - relu - max pool, as one layer (cs231n's <c>conv_relu_pool_forward/backward</c>): three kernel calls.</summary>
public sealed class ConvReluPool<T> : Layer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly MaxPool2DLayer<T> _pool;
    private readonly ReluLayer<T> _relu;

    /// <summary>Composes a convolution, a ReLU and a max pool.</summary>
    public ConvReluPool(IKernelSet<T> kernels, Conv2DLayer<T> conv, Pool2DParams pool)
    {
        Conv = conv;
        _relu = new ReluLayer<T>(kernels);
        _pool = new MaxPool2DLayer<T>(kernels, pool);
        Pool = pool;
    }

    /// <summary>The convolution (its W and b are this layer's parameters).</summary>
    public Conv2DLayer<T> Conv { get; }

    /// <summary>The max pool's window and stride.</summary>
    public Pool2DParams Pool { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<Parameter<T>> Parameters => Conv.Parameters;
    /// <inheritdoc/>
    public override Shape4 OutputShape(Shape4 input) => _pool.OutputShape(Conv.OutputShape(input));
    /// <inheritdoc/>
    public override NchwTensor<T> Forward(NchwTensor<T> x) => _pool.Forward(_relu.Forward(Conv.Forward(x)));
    /// <inheritdoc/>
    public override NchwTensor<T> Backward(NchwTensor<T> dout) => Conv.Backward(_relu.Backward(_pool.Backward(dout)));
}

/// <summary>affine - relu, as one layer (cs231n's <c>affine_relu_forward/backward</c>).</summary>
public sealed class AffineRelu<T>(IKernelSet<T> kernels, AffineLayer<T> affine) : Layer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ReluLayer<T> _relu = new(kernels);

    /// <summary>The affine layer (its W and b are this layer's parameters).</summary>
    public AffineLayer<T> Affine { get; } = affine;

    /// <inheritdoc/>
    public override IReadOnlyList<Parameter<T>> Parameters => Affine.Parameters;
    /// <inheritdoc/>
    public override Shape4 OutputShape(Shape4 input) => Affine.OutputShape(input);
    /// <inheritdoc/>
    public override NchwTensor<T> Forward(NchwTensor<T> x) => _relu.Forward(Affine.Forward(x));
    /// <inheritdoc/>
    public override NchwTensor<T> Backward(NchwTensor<T> dout) => Affine.Backward(_relu.Backward(dout));
}
