using Kernels.Convolution;
using Kernels.GemmInternals;

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
    /// <summary>Direct convolution from a zero-padded copy of each image, no im2col matrix: stride 1 or 2, any filter but
    /// 1x1 stride-1 unpadded. Forward only (the gradients run im2col + GEMM); results within float rounding of the
    /// oracle (the IEEE sum rule).</summary>
    Direct,
}

/// <summary>
/// The algorithm choice: one small function whose crossovers are data, measured on this project's reference machine
/// (AMD EPYC, AVX-512, one thread, stopwatch medians; the table is in docs/performance.md).
/// </summary>
internal static class ConvAlgorithms
{
    /// <summary>
    /// Winograd wins from 64 output channels (the GEMM stage's M) and 16 input channels on: x (8,64,56,56) with
    /// 64 filters 6.7 ms against 8.9 direct and 9.7 im2col; (8,256,14,14) 6.5 / 9.1 / 10.4; (8,128,28,28) 4.8 / 8.6 /
    /// 9.8. With 32 filters the transforms outweigh the products they save: (8,64,32,32) with 32 filters 1.35 ms
    /// against 1.20 direct; with 16 filters (8,16,56,56) 0.76 against 0.58.
    /// </summary>
    public const int WinogradMinOutputs = 64, WinogradMinInputs = 16;

    /// <summary>
    /// The direct path wins once an output row fills a vector of the register tile (half its NR columns: 16 with
    /// AVX-512), whatever the channel count: (8,64,32,32) with 32 filters 1.20 ms against 1.82 im2col, (50,3,32,32)
    /// 7x7 1.95 against 3.00, (100,3,31,31) stride 2 (16 columns) 0.35 against 0.45; on 8-column rows half of every
    /// vector is idle and im2col wins: (8,64,8,8) 0.32 against 0.29.
    /// </summary>
    public static bool DirectFillsVectors(Shape4 w, Conv2DParams p, int outW) => outW >= PrePackedGemm.PanelWidth(w.N) / 2;

    /// <summary>Whether Auto keeps Winograd-transformed filters: depends on the filters and parameters only.</summary>
    public static bool PrefersWinograd(int outputs, int inputs, Shape4 w, Conv2DParams p) =>
        Winograd.Supports(w, p) && outputs >= WinogradMinOutputs && inputs >= WinogradMinInputs;

    public static Conv2DAlgorithm Choose(Shape4 x, Shape4 w, Conv2DParams p)
    {
        if (PrefersWinograd(w.N, w.C, w, p)) return Conv2DAlgorithm.Winograd;
        int outW = Geometry.OutputSize(x.W, w.W, p.Stride, p.Pad, "W");
        return Direct.Supports(w, p) && DirectFillsVectors(w, p, outW) ? Conv2DAlgorithm.Direct : Conv2DAlgorithm.Im2ColGemm;
    }

    /// <summary>The input gradient's choice: Winograd on the transposed problem (outputs C, inputs F), else im2col.</summary>
    public static Conv2DAlgorithm ChooseBackward(Shape4 w, Conv2DParams p) =>
        PrefersWinograd(w.C, w.N, w, p) ? Conv2DAlgorithm.Winograd : Conv2DAlgorithm.Im2ColGemm;

    /// <summary>Checks that a forced algorithm applies (Auto always does); throws naming the parameter otherwise.</summary>
    public static void Check(Conv2DAlgorithm algorithm, Shape4 w, Conv2DParams p, string name)
    {
        switch (algorithm)
        {
            case Conv2DAlgorithm.Auto:
            case Conv2DAlgorithm.Im2ColGemm:
                return;
            case Conv2DAlgorithm.Winograd:
                if (!Winograd.Supports(w, p))
                    Guard.Throw(name, $"{name} is Winograd, which needs 3x3 filters, stride 1 and pad 0-2, but w is {w.H}x{w.W} with stride {p.Stride} and pad {p.Pad}.");
                return;
            case Conv2DAlgorithm.Direct:
                if (!Direct.Supports(w, p))
                    Guard.Throw(name, $"{name} is Direct, which needs stride 1 or 2 and not a 1x1 stride-1 unpadded filter, but w is {w.H}x{w.W} with stride {p.Stride} and pad {p.Pad}.");
                return;
            default:
                Guard.ThrowOutOfRange(name, algorithm, $"{name} must be a Conv2DAlgorithm value but is {(int)algorithm}.");
                return;
        }
    }
}
