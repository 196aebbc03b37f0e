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
/// c*Hp*Wp + kh*Wp + kw; with stride 2 the padded rows are stored deinterleaved, see <see cref="TapColumn"/>), one
/// vector load per tap and vector of the tile. With K = C*HH*WW of only
/// 9-150 taps, im2col's panel writes cost as much as the multiply-adds they feed (40-50 % of shape (a)). The filters
/// are the im2col path's packed [W | b] panels; the bias starts the accumulators.
/// </summary>
internal sealed unsafe class Direct : IConvAlgorithm
{
    public static readonly Direct Instance = new();

    private Direct() { }

    public Conv2DAlgorithm Kind => Conv2DAlgorithm.Direct;
    public Conv2DAlgorithm FilterForm => Conv2DAlgorithm.Im2ColGemm;
    public string Requirement => "stride 1 or 2 on each axis and not a 1x1 stride-1 unpadded filter";
    bool IConvAlgorithm.Supports(Shape4 w, Conv2DParams p) => Supports(w, p);
    long IConvAlgorithm.FilterLength(in ConvGeometry g) => Im2ColGemm.FilterLength(g);
    void IConvAlgorithm.PrepareFilters(in ConvGeometry g, float* w, float* b, float* dst, int degree) => Im2ColGemm.PackFilters(g, w, b, dst);
    void IConvAlgorithm.EnsureForwardScratchFits(in ConvGeometry g) => EnsureScratchFits(g, g.GroupFilters);
    void IConvAlgorithm.Forward(in ConvGeometry g, float* x, float* prepared, float* b, float* y, int degree) =>
        Forward(g, x, prepared, y, g.GroupFilters, g.Images, degree);

    // Forward only: the gradients are im2col's.
    void IConvAlgorithm.EnsureBackwardScratchFits(in ConvGeometry g) => Im2ColGemm.EnsureBackwardScratchFits(g);
    void IConvAlgorithm.Backward(in ConvGeometry g, float* dout, float* x, float* w, float* dx, float* dw, float* db, int degree) =>
        Im2ColGemm.Instance.Backward(g, dout, x, w, dx, dw, db, degree);

    /// <summary>
    /// Stride 1 or 2 on each axis (any dilation, padding and groups), and not pointwise (a pointwise convolution
    /// reads x itself as its GEMM operand).
    /// </summary>
    public static bool Supports(Shape4 w, Conv2DParams p) =>
        p.StrideH <= 2 && p.StrideW <= 2
        && !(w.H == 1 && w.W == 1 && p.StrideH == 1 && p.StrideW == 1 && p.HasSymmetricPad && p.PadTop == 0);

    /// <summary>
    /// Floats of one group of one image's padded copy, the slack the last column tile's vectors read past it, and with stride 2
    /// one padded row more (plus a vector's slack) where each row is built before it is deinterleaved.
    /// </summary>
    public static long PaddedLength(in ConvGeometry g, int filters) =>
        (long)g.GroupChannels * g.PaddedH * g.PaddedW + Slack(g, filters) + (g.StrideW == 2 ? g.PaddedW + 32L : 0);

    private static long Slack(in ConvGeometry g, int filters) => 4L * PrePackedGemm.PanelWidth(filters) + (g.KW - 1L) * g.DilationW + 1 + 16;

    /// <summary>
    /// Where tap kw's column 0 starts within a padded row. Stride 1: at kw. Stride 2: each row is stored
    /// deinterleaved, its even columns first and its odd ones after, so output column j of tap kw reads padded column
    /// 2j + kw at the contiguous position j + kw / 2 of one half: plain vector loads, no shuffles per tap.
    /// </summary>
    private static int TapColumn(int kw, int stride, int wp) => stride == 1 ? kw : kw % 2 == 0 ? kw / 2 : (wp + 1) / 2 + kw / 2;

    public static void EnsureScratchFits(in ConvGeometry g, int filters)
    {
        Scratch.EnsureFits(Scratch.Role.Weights, Im2ColGemm.FilterLength(g));
        // Tap offsets are ints: the padded copy must stay below 2^31 floats.
        long length = PaddedLength(g, filters);
        if (length > int.MaxValue) throw new OutOfMemoryException($"The direct convolution needs a padded image of {length} " +
            $"floats, more than an int can index.");
        Scratch.EnsureFits(Scratch.Role.PaddedImage, length);
    }

    /// <summary>
    /// y = conv(x, w) + b with the filters packed by <see cref="Im2ColGemm.PackFilters"/>, (image, group, output rows)
    /// split between threads; filters is a group's filter count (the tile's M).
    /// </summary>
    public static void Forward(in ConvGeometry g, float* x, float* packedW, float* y, int filters, int images, int degree)
    {
        var rows = new Rows(g, x, packedW, y, filters, images);
        int threads = Partition.Threads(degree, (long)images * g.Pixels * (g.K + 1) * g.Filters, Im2ColGemm.MinMultiplyAddsPerThread);
        ForkJoin.Run(Math.Min(threads, rows.Count), ref rows);
    }

    /// <summary>
    /// Output rows per item: one when a row fills at least a vector of the tile (NR = two vectors of output columns),
    /// else two, one per vector: (100,3,31,31) stride 2 has 16 output columns, half a 32-wide tile.
    /// </summary>
    private static int RowsPerItem(in ConvGeometry g, int filters) => g.OutW <= PrePackedGemm.PanelWidth(filters) / 2 ? 2 : 1;

    /// <summary>(image, group, output rows) items, image-major, in contiguous ranges per member; each member pads each
    /// group of each image it reaches once.</summary>
    private readonly struct Rows(ConvGeometry g, float* x, float* packedW, float* y, int filters, int images) : ITeamBody
    {
        public int Count => images * g.Groups * ((g.OutH + RowsPerItem(g, filters) - 1) / RowsPerItem(g, filters));

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Invoke(in Team team)
        {
            (int first, int end) = Partition.Range(Count, team.Index, team.Size);
            if (first == end) return;
            long length = PaddedLength(g, filters);
            float* padded = Scratch.Get(Scratch.Role.PaddedImage, length);
            int* offsets = (int*)Scratch.Get(Scratch.Role.Rows, g.K);
            int hp = g.PaddedH, wp = g.PaddedW, pair = RowsPerItem(g, filters), perImage = (g.OutH + pair - 1) / pair;
            for (int p = 0; p < g.K; p++)
            {
                int tw = p % g.KW * g.DilationW, th = p / g.KW % g.KH * g.DilationH, c = p / (g.KW * g.KH);
                offsets[p] = (c * hp + th) * wp + TapColumn(tw, g.StrideW, wp);
            }
            int current = -1;
            for (int item = first; item < end; item++)
            {
                int imageGroup = item / perImage, i = item % perImage * pair, rows = Math.Min(pair, g.OutH - i);
                int image = imageGroup / g.Groups, group = imageGroup % g.Groups;
                if (imageGroup != current)
                {
                    Pad(g, filters, x + image * g.InputImage + group * g.GroupInput, padded, length);
                    current = imageGroup;
                }
                float* yRow = y + image * g.OutputImage + ((long)group * filters * g.OutH + i) * g.OutW;
                float* origin = padded + (long)i * g.StrideH * wp, wg = packedW + group * Im2ColGemm.GroupFilterLength(g);
                var row = new RowTiles(g, origin, rows, offsets, wg, yRow, filters);
                MicroKernels.Run(filters, ref row);
            }
        }
    }

    /// <summary>The output rows of one item on the microkernel of the filters' tile.</summary>
    private readonly struct RowTiles(ConvGeometry g, float* origin, int rows, int* offsets, float* packedW, float* yRow, int filters) : ITileAction
    {
        public void Run<TK>(GemmBlocking blocking) where TK : IMicroKernel => Row<TK>(g, origin, rows, offsets, packedW, yRow, filters);
    }

    /// <summary>The zero-padded copy of one group of one image (rows deinterleaved with stride 2, see <see
    /// cref="TapColumn"/>), and zeros in the slack past it.</summary>
    private static void Pad(in ConvGeometry g, int filters, float* x, float* padded, long length)
    {
        int hp = g.PaddedH, wp = g.PaddedW;
        new Span<float>(padded, (int)length).Clear();
        // Stride 2 builds each padded row past the slack, then splits it into its even and odd halves.
        float* row = padded + (long)g.GroupChannels * hp * wp + Slack(g, filters);
        for (int c = 0; c < g.GroupChannels; c++)
            for (int h = 0; h < g.H; h++)
            {
                float* src = x + ((long)c * g.H + h) * g.W, dst = padded + ((long)c * hp + h + g.PadTop) * wp;
                if (g.StrideW == 1)
                {
                    ShortRuns.Copy(src, dst + g.PadLeft, g.W);
                    continue;
                }
                ShortRuns.Copy(src, row + g.PadLeft, g.W);
                ShortRuns.CopyEven(row, dst, (wp + 1) / 2, row + wp + 32);
                ShortRuns.CopyEven(row + 1, dst + (wp + 1) / 2, wp / 2, row + wp + 32);
            }
    }

    /// <summary>
    /// One output row (or two short ones, one per vector of the tile) of every filter: MR x NR tiles, edge tiles and
    /// row pairs through a temporary.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row<TK>(in ConvGeometry g, float* origin, int rows, int* offsets, float* packedW, float* yRow, int filters) where TK : IMicroKernel
    {
        int mr = TK.MR, nr = TK.NR, half = nr / 2, k = g.K, reduction = k + 1, wp = g.PaddedW;
        nint plane = (nint)g.OutH * g.OutW;
        float* edge = stackalloc float[mr * nr];
        bool paired = g.OutW <= half;
        for (int j0 = 0; j0 < g.OutW; j0 += nr)
        {
            int cols = Math.Min(nr, g.OutW - j0);
            float* origin0 = origin + j0; // stride 2 reads its deinterleaved rows contiguously too
            // The second vector: the next columns of this row, or the first columns of the next output row.
            float* origin1 = paired ? origin + (rows > 1 ? (nint)g.StrideH * wp : 0) : origin0 + half;
            for (int f0 = 0; f0 < filters; f0 += mr)
            {
                int fs = Math.Min(mr, filters - f0);
                float* a = packedW + (nint)(f0 / mr) * mr * reduction;
                float* tile = yRow + f0 * plane + j0;
                bool whole = !paired && fs == mr && cols == nr;
                TK.RunDirect(k, a, origin0, origin1, offsets, whole ? tile : edge, whole ? plane : nr);
                if (whole) continue;
                for (int r = 0; r < fs; r++)
                {
                    if (!paired)
                    {
                        new ReadOnlySpan<float>(edge + r * nr, cols).CopyTo(new Span<float>(tile + r * plane, cols));
                        continue;
                    }
                    for (int q = 0; q < rows; q++)
                        new ReadOnlySpan<float>(edge + r * nr + q * half, g.OutW).CopyTo(new Span<float>(tile + r * plane + q * g.OutW, g.OutW));
                }
            }
        }
    }
}
