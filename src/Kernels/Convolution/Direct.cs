using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kernels.GemmInternals;
using Kernels.Simd;
using Kernels.Threading;

namespace Kernels.Convolution;

/// <summary>
/// Direct convolution for few input channels (the first layer of most CNNs, C = 1 or 3): no im2col matrix at all.
/// The GEMM microkernel's register tile (MR filters x NR output columns of one output row) reads its B rows straight
/// from a zero-padded copy of the image through a table of tap offsets (tap p = (c, kh, kw) starts at
/// c*Hp*Wp + kh*Wp + kw), one or two vectors per tap (stride 2: the even floats of two). With K = C*HH*WW of only
/// 9-150 taps, im2col's panel writes cost as much as the multiply-adds they feed (40-50 % of shape (a)). The filters
/// are the im2col path's packed [W | b] panels; the bias starts the accumulators.
/// </summary>
internal static unsafe class Direct
{
    /// <summary>Stride 1 or 2, and not pointwise (a pointwise convolution reads x itself as its GEMM operand).</summary>
    public static bool Supports(Shape4 w, Conv2DParams p) => p.Stride <= 2 && !(w.H == 1 && w.W == 1 && p.Stride == 1 && p.Pad == 0);

    /// <summary>Floats of one image's padded copy plus the slack the last column tile's vectors read past it.</summary>
    public static long PaddedLength(in ConvGeometry g, int filters) =>
        (long)g.C * (g.H + 2L * g.Pad) * (g.W + 2L * g.Pad) + 4L * PrePackedGemm.PanelWidth(filters) + g.KW + 16;

    public static void EnsureScratchFits(in ConvGeometry g, int filters)
    {
        Scratch.EnsureFits(Scratch.Role.Weights, Im2ColGemm.FilterLength(g, filters));
        // Tap offsets are ints: the padded copy must stay below 2^31 floats.
        long length = PaddedLength(g, filters);
        if (length > int.MaxValue) throw new OutOfMemoryException($"The direct convolution needs a padded image of {length} floats, more than an int can index.");
        Scratch.EnsureFits(Scratch.Role.PaddedImage, length);
    }

    /// <summary>y = conv(x, w) + b with the filters packed by <see cref="Im2ColGemm.PackFilters"/>, images and output rows split between threads.</summary>
    public static void Forward(in ConvGeometry g, float* x, float* packedW, float* y, int filters, int images, int degree)
    {
        var rows = new Rows(g, x, packedW, y, filters, images);
        int threads = Partition.Threads(degree, (long)images * g.Pixels * (g.K + 1) * filters, Im2ColGemm.MinMultiplyAddsPerThread);
        ForkJoin.Run(Math.Min(threads, images * g.OutH), ref rows);
    }

    /// <summary>(image, output row) items, image-major, in contiguous ranges per member; each member pads each image it reaches once.</summary>
    private readonly struct Rows(ConvGeometry g, float* x, float* packedW, float* y, int filters, int images) : ITeamBody
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Invoke(in Team team)
        {
            (int first, int end) = Partition.Range(images * g.OutH, team.Index, team.Size);
            if (first == end) return;
            long length = PaddedLength(g, filters);
            float* padded = Scratch.Get(Scratch.Role.PaddedImage, length);
            int* offsets = (int*)Scratch.Get(Scratch.Role.Rows, g.K);
            int hp = g.H + 2 * g.Pad, wp = g.W + 2 * g.Pad;
            for (int p = 0; p < g.K; p++)
            {
                int kw = p % g.KW, kh = p / g.KW % g.KH, c = p / (g.KW * g.KH);
                offsets[p] = (c * hp + kh) * wp + kw;
            }
            int current = -1;
            for (int item = first; item < end; item++)
            {
                int image = item / g.OutH, i = item % g.OutH;
                if (image != current)
                {
                    Pad(g, x + (long)image * g.C * g.H * g.W, padded, length);
                    current = image;
                }
                float* yRow = y + ((long)image * filters * g.OutH + i) * g.OutW;
                float* origin = padded + (long)i * g.Stride * wp;
                switch (Isa.Width)
                {
                    case SimdWidth.Vector512 when GemmBlocking.For(filters) == GemmBlocking.Avx512Narrow:
                        Row<MicroKernel8x2V<Vector512<float>, V512>>(g, origin, offsets, packedW, yRow, filters);
                        break;
                    case SimdWidth.Vector512: Row<MicroKernel12x2V<Vector512<float>, V512>>(g, origin, offsets, packedW, yRow, filters); break;
                    case SimdWidth.Vector256: Row<MicroKernel6x2V<Vector256<float>, V256>>(g, origin, offsets, packedW, yRow, filters); break;
                    case SimdWidth.Vector128: Row<MicroKernel6x2V<Vector128<float>, V128>>(g, origin, offsets, packedW, yRow, filters); break;
                    default: Row<MicroKernel6x2V<float, ScalarOps>>(g, origin, offsets, packedW, yRow, filters); break;
                }
            }
        }
    }

    /// <summary>The zero-padded copy of one image, and zeros in the slack past it.</summary>
    private static void Pad(in ConvGeometry g, float* x, float* padded, long length)
    {
        int hp = g.H + 2 * g.Pad, wp = g.W + 2 * g.Pad;
        new Span<float>(padded, (int)length).Clear();
        for (int c = 0; c < g.C; c++)
            for (int h = 0; h < g.H; h++)
                ShortRuns.Copy(x + ((long)c * g.H + h) * g.W, padded + ((long)c * hp + h + g.Pad) * wp + g.Pad, g.W);
    }

    /// <summary>One output row of every filter: MR x NR tiles, edge tiles through a temporary.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row<TK>(in ConvGeometry g, float* origin, int* offsets, float* packedW, float* yRow, int filters) where TK : IMicroKernel
    {
        int mr = TK.MR, nr = TK.NR, k = g.K, reduction = k + 1;
        nint plane = (nint)g.OutH * g.OutW;
        float* edge = stackalloc float[mr * nr];
        for (int j0 = 0; j0 < g.OutW; j0 += nr)
        {
            int cols = Math.Min(nr, g.OutW - j0);
            float* columnOrigin = origin + (nint)j0 * g.Stride;
            for (int f0 = 0; f0 < filters; f0 += mr)
            {
                int rows = Math.Min(mr, filters - f0);
                float* a = packedW + (nint)(f0 / mr) * mr * reduction;
                float* tile = yRow + f0 * plane + j0;
                bool whole = rows == mr && cols == nr;
                if (g.Stride == 1) TK.RunDirect<Stride1>(k, a, columnOrigin, offsets, whole ? tile : edge, whole ? plane : nr);
                else TK.RunDirect<Stride2>(k, a, columnOrigin, offsets, whole ? tile : edge, whole ? plane : nr);
                if (whole) continue;
                for (int r = 0; r < rows; r++)
                    new ReadOnlySpan<float>(edge + r * nr, cols).CopyTo(new Span<float>(tile + r * plane, cols));
            }
        }
    }
}
