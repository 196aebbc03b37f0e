using System.Numerics;

namespace Kernels.Nn;

/// <summary>Fully-connected layer: W (D, M), b (M); x (N, ...) read as (N, D) to (N, M, 1, 1).</summary>
public sealed class AffineLayer<T> : Layer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IKernelSet<T> _kernels;
    private NchwTensor<T>? _x, _y, _dx;

    /// <summary>Creates the layer with weights <c>weightScale * N(0,1)</c> from <paramref name="rng"/> and zero bias.</summary>
    public AffineLayer(IKernelSet<T> kernels, string name, int inputs, int outputs, Random rng, double weightScale, string? biasName = null)
    {
        ArgumentNullException.ThrowIfNull(kernels);
        ArgumentNullException.ThrowIfNull(rng);
        _kernels = kernels;
        W = new Parameter<T>(name, [inputs, outputs], isWeight: true);
        B = new Parameter<T>(biasName ?? name + ".b", [outputs], isWeight: false);
        W.InitNormal(rng, weightScale);
    }

    /// <summary>Weights (D, M).</summary>
    public Parameter<T> W { get; }
    /// <summary>Bias (M).</summary>
    public Parameter<T> B { get; }
    private int Inputs => W.Dims[0];
    private int Outputs => W.Dims[1];

    /// <inheritdoc/>
    public override IReadOnlyList<Parameter<T>> Parameters => [W, B];

    /// <inheritdoc/>
    public override Shape4 OutputShape(Shape4 input)
    {
        if (input.ImageLength != Inputs)
            Guard.Throw("x", $"x has {input.ImageLength} features per image (shape {input}) but the affine layer {W.Name} takes {Inputs}.");
        return new Shape4(input.N, Outputs, 1, 1);
    }

    /// <inheritdoc/>
    public override NchwTensor<T> Forward(NchwTensor<T> x)
    {
        NchwTensor<T> y = Reuse(ref _y, OutputShape(x.Shape));
        _kernels.AffineForward(x.ReadOnlyView.AsMatrix(), Matrix(W.Value), B.Value, y.View.AsMatrix());
        _x = x;
        return y;
    }

    /// <inheritdoc/>
    public override NchwTensor<T> Backward(NchwTensor<T> dout)
    {
        NchwTensor<T> x = Saved(_x), dx = Reuse(ref _dx, x.Shape);
        _kernels.AffineBackward(dout.ReadOnlyView.AsMatrix(), x.ReadOnlyView.AsMatrix(), Matrix(W.Value), dx.View.AsMatrix(),
            new CommunityToolkit.HighPerformance.Span2D<T>(W.Grad, Inputs, Outputs), B.Grad);
        return dx;
    }

    private CommunityToolkit.HighPerformance.ReadOnlySpan2D<T> Matrix(T[] w) => new(w, Inputs, Outputs);
}
