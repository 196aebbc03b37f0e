using Kernels.Convolution;

namespace Kernels;

/// <summary>
/// Fast 2-D convolution with the semantics of <see cref="Reference.Conv2D"/>: x (N, C, H, W), w (F, C / groups, HH, WW),
/// b (F), y (N, F, Hout, Wout), with the stride, padding, dilation and groups of <see cref="Conv2DParams"/>. Four
/// algorithms behind one entry (<see cref="Conv2DAlgorithm"/>, each one file behind <see cref="Convolution.IConvAlgorithm"/>):
/// im2col fused into the packed GEMM for every geometry (one GEMM per group), Winograd F(4x4, 3x3) for plain 3x3
/// stride-1 filters, a direct path that reads the padded image through tap offsets, and a depthwise kernel for one
/// channel per filter; <see cref="Choose"/> picks by geometry unless the caller forces one, and <see cref="Prepare"/>
/// keeps filters in an algorithm's form for repeated calls. Results are bitwise identical for every
/// <c>maxDegreeOfParallelism</c>.
/// </summary>
public static unsafe class Conv2D
{
    /// <summary>The algorithm <see cref="Conv2DAlgorithm.Auto"/> runs for input x (N, C, H, W), filters w (F, C /
    /// groups, HH, WW) and p (the forward pass).</summary>
    public static Conv2DAlgorithm Choose(Shape4 x, Shape4 w, Conv2DParams p)
    {
        _ = Geometry.Conv2DOutput(x, w, w.N, p);
        return ConvAlgorithms.Choose(x, w, p);
    }

    /// <summary><c>y[n,f,:,:] = b[f] + W[f] * im2col(x[n])</c>; see <see cref="Reference.Conv2D.Forward{T}"/>.</summary>
    /// <param name="x">Input (N, C, H, W).</param>
    /// <param name="w">Filters (F, C / groups, HH, WW).</param>
    /// <param name="b">Bias (F).</param>
    /// <param name="p">Stride, zero padding, dilation and groups.</param>
    /// <param name="y">Output (N, F, Hout, Wout); must not overlap the inputs.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    /// <param name="algorithm">Auto (default) or a forced algorithm; forcing one that does not apply throws <see
    /// cref="ArgumentException"/>.</param>
    public static void Forward(ReadOnlyNchwSpan<float> x, ReadOnlyNchwSpan<float> w, ReadOnlySpan<float> b, Conv2DParams p, NchwSpan<float> y,
        int maxDegreeOfParallelism = 1, Conv2DAlgorithm algorithm = Conv2DAlgorithm.Auto)
    {
        Reference.Conv2D.Validate(x, w, b.Length, p, y.Shape, nameof(y));
        Guard.NoOverlap(y.Span, x.Span, nameof(y), nameof(x));
        Guard.NoOverlap(y.Span, w.Span, nameof(y), nameof(w));
        Guard.NoOverlap(y.Span, b, nameof(y), nameof(b));
        int degree = Parallelism.Resolve(maxDegreeOfParallelism);
        ConvAlgorithms.Check(algorithm, w.Shape, p, nameof(algorithm));
        IConvAlgorithm run = ConvAlgorithms.Of(algorithm == Conv2DAlgorithm.Auto ? ConvAlgorithms.Choose(x.Shape, w.Shape, p) : algorithm);
        var g = new ConvGeometry(x.Shape, w.Shape, p, y.Shape);
        // Every scratch buffer of the call is checked first, so a call too big for them fails the same way at every
        // degree of parallelism, before anything is packed or written.
        run.EnsureForwardScratchFits(g);
        fixed (float* px = x.Span, pw = w.Span, pb = b, py = y.Span)
        {
            float* prepared = Scratch.Get(Scratch.Role.Weights, run.FilterLength(g));
            run.PrepareFilters(g, pw, pb, prepared, degree);
            run.Forward(g, px, prepared, pb, py, degree);
        }
    }

    /// <summary>
    /// The filters and bias in the form <paramref name="algorithm"/> multiplies with, for repeated forward passes
    /// with the same weights (the filter transform or packing then runs once, not per call).
    /// </summary>
    /// <param name="w">Filters (F, C / groups, HH, WW).</param>
    /// <param name="b">Bias (F).</param>
    /// <param name="p">Stride, zero padding, dilation and groups.</param>
    /// <param name="algorithm">Auto or a forced algorithm. Auto keeps Winograd-transformed filters when it would pick
    /// Winograd for them on planes of 16 x 16 outputs or more (<see cref="Choose"/>: the plane is not known here), else
    /// packed ones, on which each call picks direct or im2col for its input's width. For small images pass the
    /// algorithm <see cref="Choose"/> gives for them.</param>
    /// <param name="maxDegreeOfParallelism">Threads for the preparation itself.</param>
    public static PreparedConv2DFilters Prepare(ReadOnlyNchwSpan<float> w, ReadOnlySpan<float> b, Conv2DParams p,
        Conv2DAlgorithm algorithm = Conv2DAlgorithm.Auto, int maxDegreeOfParallelism = 1)
    {
        p.Validate(nameof(p));
        if (b.Length != w.Shape.N) Guard.Throw(nameof(b), $"b has length {b.Length} but w has {w.Shape.N} filters.");
        if (w.Shape.N % p.Groups != 0) Guard.Throw(nameof(w), $"w has {w.Shape.N} filters, which p.Groups ({p.Groups}) must divide.");
        int degree = Parallelism.Resolve(maxDegreeOfParallelism);
        ConvAlgorithms.Check(algorithm, w.Shape, p, nameof(algorithm));
        IConvAlgorithm form = ConvAlgorithms.Of(algorithm == Conv2DAlgorithm.Auto
            ? ConvAlgorithms.PreferredForm(w.Shape, p)
            : ConvAlgorithms.Of(algorithm).FilterForm);
        ConvGeometry g = FilterGeometry(w.Shape, p);
        long length = form.FilterLength(g);
        if (length > Array.MaxLength) throw new OutOfMemoryException($"Prepared filters would need {length} floats, more than " +
            $"the largest array ({Array.MaxLength}).");
        float[] data = new float[length];
        fixed (float* pw = w.Span, pb = b, pd = data)
            form.PrepareFilters(g, pw, pb, pd, degree);
        return new PreparedConv2DFilters(w.Shape, p, algorithm, form.Kind, data, b.ToArray());
    }

    /// <summary>
    /// The geometry filters are prepared for: the packed layouts do not depend on the image size, so any image of
    /// the filters' channels (C / groups per group) that they fit stands in for it (one image, one output pixel).
    /// </summary>
    private static ConvGeometry FilterGeometry(Shape4 w, Conv2DParams p) =>
        new(new Shape4(1, w.C * p.Groups, w.H, w.W), w, p, new Shape4(1, w.N, 1, 1));

    /// <summary>Prepared filters refilled from new weights of the same shape, in place (no allocation).</summary>
    internal static void Refill(PreparedConv2DFilters target, ReadOnlyNchwSpan<float> w, ReadOnlySpan<float> b, int degree)
    {
        fixed (float* pw = w.Span, pb = b, pd = target.Data)
            ConvAlgorithms.Of(target.Form).PrepareFilters(FilterGeometry(w.Shape, target.Params), pw, pb, pd, degree);
        b.CopyTo(target.Bias);
    }

    /// <summary><c>y = conv(x, w) + b</c> with filters prepared by <see cref="Prepare"/>.</summary>
    /// <param name="x">Input (N, C, H, W) with the prepared filters' C.</param>
    /// <param name="filters">The prepared filters (they fix the algorithm, stride and padding).</param>
    /// <param name="y">Output (N, F, Hout, Wout); must not overlap x.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Forward(ReadOnlyNchwSpan<float> x, PreparedConv2DFilters filters, NchwSpan<float> y, int maxDegreeOfParallelism = 1)
    {
        ArgumentNullException.ThrowIfNull(filters);
        Shape4 ws = filters.FilterShape;
        Shape4 expected = Geometry.Conv2DOutput(x.Shape, ws, ws.N, filters.Params);
        Guard.Shape(y.Shape, expected, nameof(y), $"the convolution of x {x.Shape} with the prepared filters {ws}");
        Guard.NoOverlap(y.Span, x.Span, nameof(y), nameof(x));
        int degree = Parallelism.Resolve(maxDegreeOfParallelism);
        IConvAlgorithm run = ConvAlgorithms.Of(filters.Algorithm == Conv2DAlgorithm.Auto
            ? ConvAlgorithms.Choose(x.Shape, ws, filters.Params)
            : filters.Algorithm);
        // Auto picks among the algorithms that read the prepared form (packed filters serve direct and im2col alike).
        if (run.FilterForm != filters.Form) run = ConvAlgorithms.Of(filters.Form);
        var g = new ConvGeometry(x.Shape, ws, filters.Params, y.Shape);
        run.EnsureForwardScratchFits(g);
        fixed (float* px = x.Span, pd = filters.Data, pb = filters.Bias, py = y.Span)
            run.Forward(g, px, pd, pb, py, degree);
    }

    /// <summary>
    /// Gradients given dout (N, F, Hout, Wout): dx (N, C, H, W), dw (F, C, HH, WW), db (F), all overwritten.
    /// db and dw are reduced over the batch in an order fixed by the shapes, so they too are identical for every
    /// thread count. Winograd applies to dx (a convolution of dout with the rotated, transposed filters) and depthwise
    /// computes all three; otherwise dw, and dx for every other algorithm, run on im2col + GEMM.
    /// </summary>
    /// <param name="dout">Upstream gradient (N, F, Hout, Wout).</param>
    /// <param name="x">The forward input (N, C, H, W).</param>
    /// <param name="w">The filters (F, C / groups, HH, WW).</param>
    /// <param name="p">Stride, zero padding, dilation and groups of the forward pass.</param>
    /// <param name="dx">Gradient of x; must not overlap anything else.</param>
    /// <param name="dw">Gradient of w; must not overlap anything else.</param>
    /// <param name="db">Gradient of b (F); must not overlap anything else.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    /// <param name="algorithm">Auto (default) or a forced algorithm for dx; forcing one that does not apply throws <see
    /// cref="ArgumentException"/>.</param>
    public static void Backward(ReadOnlyNchwSpan<float> dout, ReadOnlyNchwSpan<float> x, ReadOnlyNchwSpan<float> w, Conv2DParams p,
        NchwSpan<float> dx, NchwSpan<float> dw, Span<float> db, int maxDegreeOfParallelism = 1, Conv2DAlgorithm algorithm = Conv2DAlgorithm.Auto)
    {
        Reference.Conv2D.Validate(x, w, db.Length, p, dout.Shape, nameof(dout));
        Guard.Shape(dx.Shape, x.Shape, nameof(dx), $"x");
        Guard.Shape(dw.Shape, w.Shape, nameof(dw), $"w");
        Reference.Conv2D.GuardOutputs(dout.Span, x.Span, w.Span, dx.Span, dw.Span, db);
        int degree = Parallelism.Resolve(maxDegreeOfParallelism);
        ConvAlgorithms.Check(algorithm, w.Shape, p, nameof(algorithm));
        IConvAlgorithm run = ConvAlgorithms.Of(algorithm == Conv2DAlgorithm.Auto
            ? ConvAlgorithms.ChooseBackward(x.Shape, w.Shape, p)
            : algorithm);
        var g = new ConvGeometry(x.Shape, w.Shape, p, dout.Shape);
        run.EnsureBackwardScratchFits(g); // before db is written
        fixed (float* pdout = dout.Span, px = x.Span, pw = w.Span, pdx = dx.Span, pdw = dw.Span, pdb = db)
            run.Backward(g, pdout, px, pw, pdx, pdw, pdb, degree);
    }
}
