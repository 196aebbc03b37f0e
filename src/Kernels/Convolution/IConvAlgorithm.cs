namespace Kernels.Convolution;

/// <summary>
/// One convolution algorithm behind <see cref="Conv2D"/>: what it supports, the form its filters are prepared in, the
/// scratch it needs (checked before anything is written), and its forward and backward passes over a validated
/// geometry. <see cref="ConvAlgorithms"/> holds one instance per <see cref="Conv2DAlgorithm"/> and chooses between them;
/// a new algorithm is one file with one implementation and a line there. The hot loops stay generic struct code inside
/// each algorithm: the seam costs one interface call per convolution call.
/// </summary>
internal unsafe interface IConvAlgorithm
{
    /// <summary>The public name of the algorithm.</summary>
    Conv2DAlgorithm Kind { get; }

    /// <summary>The algorithm whose prepared filters this one reads (itself, or im2col's packed panels for direct).</summary>
    Conv2DAlgorithm FilterForm { get; }

    /// <summary>Whether it computes filters of shape w with parameters p.</summary>
    bool Supports(Shape4 w, Conv2DParams p);

    /// <summary>What <see cref="Supports"/> requires, for the message when a forced algorithm does not apply.</summary>
    string Requirement { get; }

    /// <summary>Floats of the filters and bias prepared by <see cref="PrepareFilters"/>.</summary>
    long FilterLength(in ConvGeometry g);

    /// <summary>Writes w (F, C / groups, HH, WW) and b (F) in this algorithm's form to dst (<see cref="FilterLength"/> floats).</summary>
    void PrepareFilters(in ConvGeometry g, float* w, float* b, float* dst, int degree);

    /// <summary>Throws <see cref="OutOfMemoryException"/> before anything is written when the forward pass's scratch
    /// would not fit.</summary>
    void EnsureForwardScratchFits(in ConvGeometry g);

    /// <summary>y = conv(x, w) + b from prepared filters; b is the bias as given (some forms carry it in the filters).</summary>
    void Forward(in ConvGeometry g, float* x, float* prepared, float* b, float* y, int degree);

    /// <summary>As <see cref="EnsureForwardScratchFits"/> for <see cref="Backward"/>.</summary>
    void EnsureBackwardScratchFits(in ConvGeometry g);

    /// <summary>dx, dw and db (all overwritten) given dout; reductions in an order fixed by the shapes.</summary>
    void Backward(in ConvGeometry g, float* dout, float* x, float* w, float* dx, float* dw, float* db, int degree);
}
