using Kernels.Convolution;
using Kernels.GemmInternals;
using Kernels.Simd;

namespace Kernels;

/// <summary>How <see cref="Conv2D"/> computes a convolution. Every algorithm has the same shapes and semantics; they
/// differ in speed and in rounding (docs/semantics.md says what each promises numerically).</summary>
public enum Conv2DAlgorithm
{
    /// <summary>Chosen from the geometry by <see cref="Conv2D.Choose"/> (measured crossovers in docs/performance.md).</summary>
    Auto,
    /// <summary>im2col fused into the packed GEMM: any geometry; results within float rounding of the oracle (the IEEE sum rule).</summary>
    Im2ColGemm,
    /// <summary>Winograd F(4x4, 3x3): 3x3 filters, stride 1, padding 0-2 only; a few times faster, a larger rounding error
    /// (it grows with the magnitude of each 6x6 input tile), and an inf or NaN spreads over its whole output tile.</summary>
    Winograd,
    /// <summary>Direct convolution from a zero-padded copy of each image (each group of it), no im2col matrix: stride 1
    /// or 2 on each axis, any filter but 1x1 stride-1 unpadded, any dilation, padding and groups. Forward only (the
    /// gradients run im2col + GEMM); results within float rounding of the oracle (the IEEE sum rule).</summary>
    Direct,
    /// <summary>Depthwise: one input channel per filter (groups = C, any channel multiplier F / C, any filter, stride,
    /// dilation and padding), vectorized along the output row, forward and backward; results within float rounding of
    /// the oracle (the IEEE sum rule).</summary>
    Depthwise,
}

/// <summary>
/// The algorithm choice: one small function whose crossovers are data, measured on this project's machines (AMD EPYC
/// with AVX-512, and AMD EPYC with AVX2 only; one thread, stopwatch medians; the tables are in docs/performance.md).
/// </summary>
internal static class ConvAlgorithms
{
    /// <summary>
    /// Winograd needs 16 input channels and, with AVX-512, 64 output channels (the GEMM stage's M): there
    /// (8,64,56,56) with 64 filters took 6.7 ms against 8.9 direct and 9.7 im2col, but (8,64,32,32) with 32 filters
    /// 1.35 against 1.20 direct. With AVX2's 6 x 16 tile the direct and im2col paths reach a smaller share of their
    /// peak and Winograd wins from 16 filters: (8,16,56,56) with 16 filters 2.0 ms against 3.0 direct and 4.1 im2col,
    /// (8,64,32,32) with 32 filters 2.25 against 4.9 direct.
    /// </summary>
    public static int WinogradMinOutputs => Isa.Width == SimdWidth.Vector512 ? 64 : 16;

    /// <inheritdoc cref="WinogradMinOutputs"/>
    public const int WinogradMinInputs = 16;

    /// <summary>
    /// On small planes (under 16 x 16 outputs) Winograd's 6 x 6 tiles are mostly edge and its transforms outweigh the
    /// products it saves unless the products are large: with AVX-512 (8,64,8,8) with 64 filters took 0.37 ms against
    /// 0.29 im2col, (64,128,8,8) with 128 filters 4.7 against 7.3; with AVX2 (8,64,8,8) with 32 filters 0.37 against
    /// 0.27 direct, (8,128,8,8) with 128 filters 1.5 against 1.9 direct.
    /// </summary>
    public const int WinogradMinPlane = 256, WinogradSmallPlaneMinOutputs = 128;

    /// <summary>
    /// The direct path wins once an output row fills a vector of the register tile (half its NR columns: 16 with
    /// AVX-512, 8 with AVX2), whatever the channel count: AVX-512 (8,64,32,32) with 32 filters 1.20 ms against 1.82
    /// im2col, (50,3,32,32) 7x7 1.95 against 3.00, (100,3,31,31) stride 2 (16 columns) 0.35 against 0.45; on
    /// 8-column rows half of every AVX-512 vector is idle and im2col wins: (8,64,8,8) 0.32 against 0.29 (with AVX2
    /// direct wins there: 0.27 against 0.50). Small groups gain most (im2col writes as much as their GEMMs read):
    /// ResNeXt's (8,128,56,56) with 32 groups of 4 took 24 ms against 61 im2col, RegNet's (8,128,28,28) with 8 groups
    /// of 16 12 against 17 (AVX-512, one thread, stopwatch medians on a machine loaded about 9x: ratios only).
    /// </summary>
    public static bool DirectFillsVectors(Shape4 w, Conv2DParams p, int outW) => outW >= PrePackedGemm.PanelWidth(w.N) / 2;

    /// <summary>Whether Auto keeps Winograd-transformed filters: depends on the filters and parameters only (the
    /// plane condition <see cref="WinogradFits"/> needs the input).</summary>
    public static bool PrefersWinograd(int outputs, int inputs, Shape4 w, Conv2DParams p) =>
        Winograd.Supports(w, p) && outputs >= WinogradMinOutputs && inputs >= WinogradMinInputs;

    /// <summary>Whether Winograd pays on an output plane of <paramref name="plane"/> pixels per image.</summary>
    private static bool WinogradFits(int outputs, long plane) => plane >= WinogradMinPlane || outputs >= WinogradSmallPlaneMinOutputs;

    public static Conv2DAlgorithm Choose(Shape4 x, Shape4 w, Conv2DParams p)
    {
        Shape4 y = Geometry.Conv2DOutput(x, w, w.N, p);
        int outH = y.H, outW = y.W;
        if (IsDepthwise(w, p)) return Conv2DAlgorithm.Depthwise;
        if (PrefersWinograd(w.N, w.C, w, p) && WinogradFits(w.N, (long)outH * outW)) return Conv2DAlgorithm.Winograd;
        return Direct.Supports(w, p) && DirectFillsVectors(w, p, outW) ? Conv2DAlgorithm.Direct : Conv2DAlgorithm.Im2ColGemm;
    }

    /// <summary>The input gradient's choice: Winograd on the transposed problem (outputs C, inputs F, plane H x W), else im2col.</summary>
    public static Conv2DAlgorithm ChooseBackward(Shape4 x, Shape4 w, Conv2DParams p) =>
        IsDepthwise(w, p) ? Conv2DAlgorithm.Depthwise
        : PrefersWinograd(w.C, w.N, w, p) && WinogradFits(w.C, (long)x.H * x.W) ? Conv2DAlgorithm.Winograd : Conv2DAlgorithm.Im2ColGemm;

    /// <summary>The implementation of each algorithm, by <see cref="Conv2DAlgorithm"/> value (Auto has none).</summary>
    private static readonly IConvAlgorithm?[] Algorithms = [null, Im2ColGemm.Instance, Winograd.Instance, Direct.Instance, Depthwise.Instance];

    /// <summary>The implementation of a concrete (not Auto) algorithm.</summary>
    public static IConvAlgorithm Of(Conv2DAlgorithm algorithm) => Algorithms[(int)algorithm]!;

    /// <summary>The filter form Auto prepares w in (<see cref="Conv2D.Prepare"/>): Winograd's when it prefers Winograd,
    /// else packed panels.</summary>
    public static Conv2DAlgorithm PreferredForm(Shape4 w, Conv2DParams p) =>
        IsDepthwise(w, p) ? Conv2DAlgorithm.Depthwise
        : PrefersWinograd(w.N, w.C, w, p) ? Conv2DAlgorithm.Winograd : Conv2DAlgorithm.Im2ColGemm;

    /// <summary>
    /// Groups = C (one channel per filter, several groups): a GEMM per group would have M = F / C rows (1-3) and
    /// K = HH WW; the depthwise kernel does the multiply-adds alone. A one-channel image (C = 1, one group) keeps
    /// the GEMM and direct paths, as before depthwise existed.
    /// </summary>
    public static bool IsDepthwise(Shape4 w, Conv2DParams p) => w.C == 1 && p.Groups > 1;

    /// <summary>Checks that a forced algorithm applies (Auto always does); throws naming the parameter otherwise.</summary>
    public static void Check(Conv2DAlgorithm algorithm, Shape4 w, Conv2DParams p, string name)
    {
        if (algorithm == Conv2DAlgorithm.Auto) return;
        if ((uint)algorithm >= (uint)Algorithms.Length)
            Guard.ThrowOutOfRange(name, algorithm, $"{name} must be a Conv2DAlgorithm value but is {(int)algorithm}.");
        IConvAlgorithm run = Of(algorithm);
        if (!run.Supports(w, p))
            Guard.Throw(name, $"{name} is {algorithm}, which needs {run.Requirement}, but w is {w.H}x{w.W} with {p.Describe()}.");
    }
}
