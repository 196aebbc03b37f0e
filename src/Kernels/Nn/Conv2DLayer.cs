using System.Numerics;
using System.Runtime.InteropServices;

namespace Kernels.Nn;

/// <summary>
/// Convolution layer: W (F, C / groups, HH, WW), b (F); x (N, C, H, W) to (N, F, Hout, Wout), with the stride,
/// padding, dilation and groups of its <see cref="Conv2DParams"/>. On <see cref="FastKernels"/>
/// it keeps its filters prepared for <see cref="Algorithm"/> (<see cref="Conv2D.Prepare"/>) until W or b change
/// (their <see cref="Parameter{T}.Version"/>), so repeated forward passes with the same weights skip the filter
/// transform.
/// </summary>
public sealed class Conv2DLayer<T> : Layer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IKernelSet<T> _kernels;
    private NchwTensor<T>? _x, _y, _dx;
    private PreparedConv2DFilters? _prepared;
    private int _preparedW = -1, _preparedB = -1;

    /// <summary>Creates the layer with weights <c>weightScale * N(0,1)</c> from <paramref name="rng"/> and zero bias.</summary>
    public Conv2DLayer(IKernelSet<T> kernels, string name, int inChannels, int filters, int filterHeight, int filterWidth, Conv2DParams p,
        Random rng, double weightScale, string? biasName = null)
    {
        ArgumentNullException.ThrowIfNull(kernels);
        ArgumentNullException.ThrowIfNull(rng);
        p.Validate(nameof(p));
        if (inChannels % p.Groups != 0) Guard.Throw(nameof(inChannels), $"inChannels ({inChannels}) must divide by p.Groups ({p.Groups}).");
        if (filters % p.Groups != 0) Guard.Throw(nameof(filters), $"filters ({filters}) must divide by p.Groups ({p.Groups}).");
        _kernels = kernels;
        Params = p;
        FilterShape = new Shape4(filters, inChannels / p.Groups, filterHeight, filterWidth);
        W = new Parameter<T>(name, [filters, inChannels / p.Groups, filterHeight, filterWidth], isWeight: true);
        B = new Parameter<T>(biasName ?? name + ".b", [filters], isWeight: false);
        W.InitNormal(rng, weightScale);
    }

    /// <summary>Filters (F, C / groups, HH, WW).</summary>
    public Parameter<T> W { get; }
    /// <summary>Bias (F).</summary>
    public Parameter<T> B { get; }
    /// <summary>Stride, padding, dilation and groups.</summary>
    public Conv2DParams Params { get; }
    /// <summary>(F, C / groups, HH, WW).</summary>
    public Shape4 FilterShape { get; }

    /// <summary>The convolution algorithm (Auto by default); kernel sets with a single algorithm ignore it.</summary>
    public Conv2DAlgorithm Algorithm
    {
        get;
        set
        {
            if (!Enum.IsDefined(value)) Guard.ThrowOutOfRange(nameof(Algorithm), value, $"Algorithm must be a Conv2DAlgorithm " +
                $"value but is {(int)value}.");
            field = value;
        }
    }

    /// <inheritdoc/>
    public override IReadOnlyList<Parameter<T>> Parameters => [W, B];

    /// <inheritdoc/>
    public override Shape4 OutputShape(Shape4 input) => Geometry.Conv2DOutput(input, FilterShape, FilterShape.N, Params);

    /// <inheritdoc/>
    public override NchwTensor<T> Forward(NchwTensor<T> x)
    {
        NchwTensor<T> y = Reuse(ref _y, OutputShape(x.Shape));
        if (typeof(T) == typeof(float) && _kernels is FastKernels fast)
        {
            // Auto prepares for what Auto picks for this input (Winograd only pays on large enough planes).
            Conv2DAlgorithm form = Algorithm != Conv2DAlgorithm.Auto ? Algorithm : Conv2D.Choose(x.Shape, FilterShape, Params);
            PreparedConv2DFilters prepared = Prepared(form, fast.MaxDegreeOfParallelism);
            Conv2D.Forward(new ReadOnlyNchwSpan<float>(MemoryMarshal.Cast<T, float>(x.Span), x.Shape), prepared,
                new NchwSpan<float>(MemoryMarshal.Cast<T, float>(y.Span), y.Shape), fast.MaxDegreeOfParallelism);
        }
        else
        {
            _kernels.ConvForward(x.ReadOnlyView, new ReadOnlyNchwSpan<T>(W.Value, FilterShape), B.Value, Params, y.View, Algorithm);
        }
        _x = x;
        return y;
    }

    /// <inheritdoc/>
    public override NchwTensor<T> Backward(NchwTensor<T> dout)
    {
        NchwTensor<T> x = Saved(_x), dx = Reuse(ref _dx, x.Shape);
        _kernels.ConvBackward(dout.ReadOnlyView, x.ReadOnlyView, new ReadOnlyNchwSpan<T>(W.Value, FilterShape), Params, dx.View,
            new NchwSpan<T>(W.Grad, FilterShape), B.Grad, Algorithm);
        return dx;
    }

    /// <summary>The filters prepared for the current weights in <paramref name="form"/>: refilled in place when W or b changed.</summary>
    private PreparedConv2DFilters Prepared(Conv2DAlgorithm form, int degree)
    {
        if (_prepared is null || _prepared.Algorithm != form || _preparedW != W.Version || _preparedB != B.Version)
        {
            var w = new ReadOnlyNchwSpan<float>(MemoryMarshal.Cast<T, float>(W.Value.AsSpan()), FilterShape);
            ReadOnlySpan<float> b = MemoryMarshal.Cast<T, float>(B.Value.AsSpan());
            if (_prepared is not null && _prepared.Algorithm == form) Conv2D.Refill(_prepared, w, b, degree);
            else _prepared = Conv2D.Prepare(w, b, Params, form, degree);
            (_preparedW, _preparedB) = (W.Version, B.Version);
        }
        return _prepared;
    }
}
