using System.Numerics;

namespace Kernels.Nn;

/// <summary>Convolution layer: W (F, C, HH, WW), b (F); x (N, C, H, W) to (N, F, Hout, Wout).</summary>
public sealed class Conv2DLayer<T> : Layer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IKernelSet<T> _kernels;
    private NchwTensor<T>? _x, _y, _dx;

    /// <summary>Creates the layer with weights <c>weightScale * N(0,1)</c> from <paramref name="rng"/> and zero bias.</summary>
    public Conv2DLayer(IKernelSet<T> kernels, string name, int inChannels, int filters, int filterHeight, int filterWidth, Conv2DParams p,
        Random rng, double weightScale, string? biasName = null)
    {
        ArgumentNullException.ThrowIfNull(kernels);
        ArgumentNullException.ThrowIfNull(rng);
        p.Validate(nameof(p));
        _kernels = kernels;
        Params = p;
        FilterShape = new Shape4(filters, inChannels, filterHeight, filterWidth);
        W = new Parameter<T>(name, [filters, inChannels, filterHeight, filterWidth], isWeight: true);
        B = new Parameter<T>(biasName ?? name + ".b", [filters], isWeight: false);
        W.InitNormal(rng, weightScale);
    }

    /// <summary>Filters (F, C, HH, WW).</summary>
    public Parameter<T> W { get; }
    /// <summary>Bias (F).</summary>
    public Parameter<T> B { get; }
    /// <summary>Stride and padding.</summary>
    public Conv2DParams Params { get; }
    /// <summary>(F, C, HH, WW).</summary>
    public Shape4 FilterShape { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<Parameter<T>> Parameters => [W, B];

    /// <inheritdoc/>
    public override Shape4 OutputShape(Shape4 input) => Geometry.Conv2DOutput(input, FilterShape, FilterShape.N, Params);

    /// <inheritdoc/>
    public override NchwTensor<T> Forward(NchwTensor<T> x)
    {
        NchwTensor<T> y = Reuse(ref _y, OutputShape(x.Shape));
        _kernels.ConvForward(x.ReadOnlyView, new ReadOnlyNchwSpan<T>(W.Value, FilterShape), B.Value, Params, y.View);
        _x = x;
        return y;
    }

    /// <inheritdoc/>
    public override NchwTensor<T> Backward(NchwTensor<T> dout)
    {
        NchwTensor<T> x = Saved(_x), dx = Reuse(ref _dx, x.Shape);
        _kernels.ConvBackward(dout.ReadOnlyView, x.ReadOnlyView, new ReadOnlyNchwSpan<T>(W.Value, FilterShape), Params, dx.View,
            new NchwSpan<T>(W.Grad, FilterShape), B.Grad);
        return dx;
    }
}
