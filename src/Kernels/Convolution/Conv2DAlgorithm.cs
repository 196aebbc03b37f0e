using Kernels.Convolution;

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
    /// <summary>Direct convolution from a zero-padded copy of each image, no im2col matrix: for few input channels;
    /// stride 1 or 2, any filter but 1x1 stride-1 unpadded. Forward only (the gradients run im2col + GEMM); results
    /// within float rounding of the oracle (the IEEE sum rule).</summary>
    Direct,
}

/// <summary>The algorithm choice: one small function whose crossovers are data, measured (see docs/performance.md).</summary>
internal static class ConvAlgorithms
{
    /// <summary>
    /// Winograd needs at least this many input channels to win: with fewer, its transforms (per channel and tile)
    /// outweigh the products they save.
    /// </summary>
    public const int WinogradMinChannels = 8;

    /// <summary>At most this many input channels, the direct path beats im2col: its taps are few, so im2col's panel writes weigh most.</summary>
    public const int DirectMaxChannels = 4;

    public static Conv2DAlgorithm Choose(Shape4 w, Conv2DParams p) =>
        Winograd.Supports(w, p) && w.C >= WinogradMinChannels && w.N >= WinogradMinChannels ? Conv2DAlgorithm.Winograd
        : Direct.Supports(w, p) && w.C <= DirectMaxChannels ? Conv2DAlgorithm.Direct
        : Conv2DAlgorithm.Im2ColGemm;

    /// <summary>The algorithm to run: Auto's choice, or the forced one after checking it applies.</summary>
    public static Conv2DAlgorithm Resolve(Conv2DAlgorithm algorithm, Shape4 w, Conv2DParams p, string name)
    {
        switch (algorithm)
        {
            case Conv2DAlgorithm.Auto: return Choose(w, p);
            case Conv2DAlgorithm.Im2ColGemm: return algorithm;
            case Conv2DAlgorithm.Winograd:
                if (!Winograd.Supports(w, p))
                    Guard.Throw(name, $"{name} is Winograd, which needs 3x3 filters, stride 1 and pad 0-2, but w is {w.H}x{w.W} with stride {p.Stride} and pad {p.Pad}.");
                return algorithm;
            case Conv2DAlgorithm.Direct:
                if (!Direct.Supports(w, p))
                    Guard.Throw(name, $"{name} is Direct, which needs stride 1 or 2 and not a 1x1 stride-1 unpadded filter, but w is {w.H}x{w.W} with stride {p.Stride} and pad {p.Pad}.");
                return algorithm;
            default:
                Guard.ThrowOutOfRange(name, algorithm, $"{name} must be a Conv2DAlgorithm value but is {(int)algorithm}.");
                return algorithm;
        }
    }
}
