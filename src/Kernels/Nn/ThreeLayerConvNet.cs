using System.Numerics;

namespace Kernels.Nn;

/// <summary>Hyper-parameters of <see cref="ThreeLayerConvNet{T}"/> (cs231n's defaults).</summary>
/// <param name="Channels">Input channels C.</param>
/// <param name="Height">Input height H.</param>
/// <param name="Width">Input width W.</param>
/// <param name="Filters">Convolution filters F.</param>
/// <param name="FilterSize">Square filter size; stride 1 and pad (size - 1) / 2 keep H and W for odd sizes.</param>
/// <param name="Hidden">Hidden units of the first affine layer.</param>
/// <param name="Classes">Output classes.</param>
/// <param name="WeightScale">Standard deviation of the initial weights (biases start at 0); null: He initialisation,
/// sqrt(2 / fan-in) per layer.</param>
/// <param name="Reg">L2 regularisation strength.</param>
/// <param name="Seed">Seed of the weight initialisation.</param>
public sealed record ConvNetOptions(int Channels = 3, int Height = 32, int Width = 32, int Filters = 32, int FilterSize = 7, int Hidden = 100,
    int Classes = 10, double? WeightScale = 1e-3, double Reg = 0.0, int Seed = 0)
{
    /// <summary>The convolution's stride 1 and pad (FilterSize - 1) / 2 (an even size takes a row and a column off the image).</summary>
    internal Conv2DParams ConvParams => new(1, (FilterSize - 1) / 2);

    /// <summary>The max pool after the convolution: 2x2, stride 2.</summary>
    internal static Pool2DParams Pool => new(2, 2, 2);
}

/// <summary>
/// conv - relu - 2x2 max pool - affine - relu - affine - softmax, with parameters W1, b1 (conv), W2, b2 (hidden),
/// W3, b3 (scores). The first affine layer's input size comes from the actual pooled shape, so odd image sizes
/// work (the cs231n notes used F*H*W/4, which breaks for them). A thin composition of the layer classes.
/// </summary>
public sealed class ThreeLayerConvNet<T> : IClassifier<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Sequential<T> _net;

    /// <summary>Builds and initialises the network on the given kernels.</summary>
    public ThreeLayerConvNet(IKernelSet<T> kernels, ConvNetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Guard.AtLeast(options.Filters, 1, nameof(options.Filters));
        Guard.AtLeast(options.FilterSize, 1, nameof(options.FilterSize));
        Guard.AtLeast(options.Hidden, 1, nameof(options.Hidden));
        Guard.AtLeast(options.Classes, 1, nameof(options.Classes));
        if (options.WeightScale is double ws) Guard.Finite(ws, nameof(options.WeightScale));
        Options = options;
        var rng = new Random(options.Seed);
        var input = new Shape4(1, options.Channels, options.Height, options.Width);
        var conv = new Conv2DLayer<T>(kernels, "W1", options.Channels, options.Filters, options.FilterSize, options.FilterSize,
            options.ConvParams, rng, Scale(options.Channels * options.FilterSize * options.FilterSize), "b1");
        var convBlock = new ConvReluPool<T>(kernels, conv, ConvNetOptions.Pool);
        int pooled = convBlock.OutputShape(input).ImageLength;
        var hidden = new AffineRelu<T>(kernels, new AffineLayer<T>(kernels, "W2", pooled, options.Hidden, rng, Scale(pooled), "b2"));
        var scores = new AffineLayer<T>(kernels, "W3", options.Hidden, options.Classes, rng, Scale(options.Hidden), "b3");
        _net = new Sequential<T>(kernels, convBlock, hidden, scores) { Reg = options.Reg };

        double Scale(int fanIn) => options.WeightScale ?? Math.Sqrt(2.0 / fanIn);
    }

    /// <summary>The options it was built with.</summary>
    public ConvNetOptions Options { get; }

    /// <summary>The layers: conv-relu-pool, affine-relu, affine (what an exporter or an inspector walks).</summary>
    public Sequential<T> Network => _net;

    /// <summary>W1, b1, W2, b2, W3, b3.</summary>
    public IReadOnlyList<Parameter<T>> Parameters => _net.Parameters;

    /// <summary>A parameter by name (W1, b1, W2, b2, W3, b3).</summary>
    public Parameter<T> this[string name] => _net.Parameters.FirstOrDefault(p => p.Name == name)
        ?? throw new KeyNotFoundException($"no parameter named {name}; the names are W1, b1, W2, b2, W3, b3.");

    /// <summary>L2 regularisation strength.</summary>
    public double Reg { get => _net.Reg; set => _net.Reg = value; }

    /// <summary>Class scores (N, classes, 1, 1) for x (N, C, H, W).</summary>
    public NchwTensor<T> Scores(NchwTensor<T> x) => _net.Forward(x);

    /// <summary>Softmax data loss + <c>0.5 * reg * (|W1|^2 + |W2|^2 + |W3|^2)</c>; fills every gradient (dW includes reg * W).</summary>
    public T Loss(NchwTensor<T> x, ReadOnlySpan<int> labels) => _net.SoftmaxLoss(x, labels);
}
