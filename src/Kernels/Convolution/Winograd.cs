using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Kernels.GemmInternals;
using Kernels.Simd;
using Kernels.Threading;

namespace Kernels.Convolution;

/// <summary>
/// Winograd F(4x4, 3x3) for 3x3 stride-1 convolutions (Lavin and Gray, interpolation points 0, +-1, +-2, inf):
/// <c>Y = A^T [ (G g G^T) .* (B^T d B) ] A</c> per 6x6 input tile d and 4x4 output tile Y. 16 outputs cost 36
/// multiply-adds per channel instead of 144. The 36 element-wise products over channels are GEMMs (F x C) x (C x tiles)
/// on the packed microkernel: the filter transform U is packed once per call into A panels, the input transform of a
/// block of tiles is written straight into B panels, and the block's products come back for the output transform.
/// Blocks are sized from C and F alone so that a block's transformed data (36 x (C + F) floats per tile) stays near
/// L2; threads take contiguous ranges of blocks, and every block is computed as on one thread.
/// </summary>
internal sealed unsafe class Winograd : IConvAlgorithm
{
    public static readonly Winograd Instance = new();

    private Winograd() { }

    public Conv2DAlgorithm Kind => Conv2DAlgorithm.Winograd;
    public Conv2DAlgorithm FilterForm => Conv2DAlgorithm.Winograd;
    public string Requirement => "one group, dilation 1, the same padding on every side, 3x3 filters, stride 1 and pad 0-2";
    bool IConvAlgorithm.Supports(Shape4 w, Conv2DParams p) => Supports(w, p);
    long IConvAlgorithm.FilterLength(in ConvGeometry g) => FilterLength(g.Filters, g.Channels);
    void IConvAlgorithm.PrepareFilters(in ConvGeometry g, float* w, float* b, float* dst, int degree) =>
        TransformFilters(w, g.Filters, g.Channels, gradient: false, dst, degree);
    void IConvAlgorithm.EnsureForwardScratchFits(in ConvGeometry g) => EnsureScratchFits(ForwardPlan(g));
    void IConvAlgorithm.Forward(in ConvGeometry g, float* x, float* prepared, float* b, float* y, int degree) =>
        Forward(ForwardPlan(g), x, prepared, b, y, degree);

    private static Plan ForwardPlan(in ConvGeometry g) => new(new Shape4(g.Images, g.Channels, g.H, g.W), g.Filters, g.PadTop, g.OutH, g.OutW);

    /// <summary>dx by Winograd is the forward Winograd of dout (F channels) into C channels, padded by 2 - pad.</summary>
    private static Plan DataGradientPlan(in ConvGeometry g) =>
        new(new Shape4(g.Images, g.Filters, g.OutH, g.OutW), g.Channels, 2 - g.PadTop, g.H, g.W);

    void IConvAlgorithm.EnsureBackwardScratchFits(in ConvGeometry g)
    {
        Im2ColGemm.EnsureBackwardScratchFits(g);
        EnsureScratchFits(DataGradientPlan(g));
    }

    /// <summary>db and dw as im2col computes them; dx as a forward Winograd of dout with the rotated, transposed filters.</summary>
    void IConvAlgorithm.Backward(in ConvGeometry g, float* dout, float* x, float* w, float* dx, float* dw, float* db, int degree)
    {
        Im2ColGemm.BiasGradient(dout, db, g.Images, g.Filters, g.Pixels, degree);
        float* u = Scratch.Get(Scratch.Role.Weights, FilterLength(g.Channels, g.Filters));
        TransformFilters(w, g.Filters, g.Channels, gradient: true, u, degree);
        Forward(DataGradientPlan(g), dout, u, null, dx, degree);
        Im2ColGemm.BackwardFilter(g, dout, x, dw, degree);
    }

    /// <summary>
    /// 3x3 filters, stride 1, the same padding 0-2 on every side (the input gradient then pads by 2 - pad, which must not
    /// crop), dilation 1 and one group.
    /// </summary>
    public static bool Supports(Shape4 w, Conv2DParams p) =>
        w.H == 3 && w.W == 3 && p.IsPlain && p.StrideH == 1 && p.PadTop <= 2;

    // ---- filter transform: U = G g G^T, packed as 36 A operands (outputs x inputs) ----

    /// <summary>Floats of the transformed filters: 36 matrices of outputs x inputs, each in the microkernel's A panels.</summary>
    public static long FilterLength(int outputs, int inputs) => 36 * OperandStride(outputs, inputs);

    /// <summary>
    /// Floats from one of the 36 transformed filter operands to the next: the packed panels plus one cache line. Without
    /// the skew the operands lie a multiple of 4 KiB apart ((256 x 256) filters: 264 KiB; B operands of (c): 16 KiB), so
    /// the 36 stores or loads of each transform step fall into one L1 set: (8,64,56,56) took 4.6 ms instead of 4.0 and
    /// (1,64,56,56) 0.68 instead of 0.57 (one thread, stopwatch medians).
    /// </summary>
    public static long OperandStride(int outputs, int inputs) => Skewed(PrePacked.Length(outputs, inputs));

    /// <summary>A stride of 36 interleaved operands moved one cache line off any power of two (see <see cref="OperandStride"/>).</summary>
    private static long Skewed(long length) => length + 16;

    /// <summary>
    /// U[xi, nu] = (G g G^T)[xi, nu] for every (output, input) pair, written as 36 pre-packed A operands. For the
    /// forward pass g = w[f, c] (outputs F, inputs C); for the input gradient g = w[f, c] rotated by 180 degrees and
    /// transposed (outputs C, inputs F), which turns dx into a forward convolution of dout.
    /// </summary>
    public static void TransformFilters(float* w, int filters, int channels, bool gradient, float* u, int threads)
    {
        int outputs = gradient ? channels : filters, inputs = gradient ? filters : channels, mr = PrePackedGemm.PanelHeight(outputs);
        int panels = (outputs + mr - 1) / mr;
        // About 30 ns per (output, input) pair: 64 x 64 filters take 0.12 ms on one thread, 16 % of a one-image (1,64,56,56)
        // forward, so split from about 1000 pairs (30 us) per thread on.
        Parallelism.For(panels, Partition.Threads(threads, (long)outputs * inputs, 1024), new FilterPanels(w, filters, channels, gradient, u));
    }

    private readonly struct FilterPanels(float* w, int filters, int channels, bool gradient, float* u) : IIndexAction
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Invoke(int panel)
        {
            switch (Isa.Width)
            {
                case SimdWidth.Vector512: Panel<Vector512<float>, V512>(panel); break;
                case SimdWidth.Vector256: Panel<Vector256<float>, V256>(panel); break;
                case SimdWidth.Vector128: Panel<Vector128<float>, V128>(panel); break;
                default: Panel<float, ScalarOps>(panel); break;
            }
        }

        /// <summary>
        /// Rows [o0, o0 + mr) of every U, a vector of output rows at a time: the nine taps of input i gathered across
        /// the panel's outputs, transformed, and stored where the packed panel keeps them (element (r, i) at
        /// i * mr + r), so nothing is transposed. Lanes past the panel's last output are zero (the packing's padding).
        /// </summary>
        private void Panel<TVec, TOps>(int panel) where TVec : unmanaged where TOps : IVectorOps<TVec>
        {
            int outputs = gradient ? channels : filters, inputs = gradient ? filters : channels, mr = PrePackedGemm.PanelHeight(outputs);
            int lanes = TOps.Count, o0 = panel * mr, rows = Math.Min(mr, outputs - o0);
            long length = OperandStride(outputs, inputs);
            float* dst = u + (long)panel * mr * inputs;
            // Forward: g = w[o, i] (outputs o are C*9 floats apart); gradient: g = w[i, o] rotated (outputs 9 apart).
            int stride = gradient ? 9 : channels * 9;
            TVec* g = stackalloc TVec[9], gg = stackalloc TVec[18], row = stackalloc TVec[6], masks = stackalloc TVec[(mr + lanes - 1) / lanes];
            float* tail = stackalloc float[lanes];
            for (int r0 = 0, gi = 0; r0 < mr; r0 += lanes, gi++)
                masks[gi] = TOps.Load(in LaneMask[16 - Math.Clamp(rows - r0, 0, lanes)]);
            for (int i = 0; i < inputs; i++)
                for (int r0 = 0, gi = 0; r0 < mr; r0 += lanes, gi++)
                {
                    int count = Math.Max(1, Math.Min(lanes, rows - r0));
                    float* first = gradient ? w + ((long)i * channels + Math.Min(o0 + r0, outputs - 1)) * 9 : w + ((long)Math.Min(o0 + r0, outputs - 1) * channels + i) * 9;
                    for (int t = 0; t < 9; t++) g[t] = TOps.Gather(first + (gradient ? 8 - t : t), stride, count);
                    // G g (6 x 3), column by column, then (G g) G^T (6 x 6), row by row.
                    for (int col = 0; col < 3; col++)
                        FilterTransform1D<TVec, TOps>(g[col], g[3 + col], g[6 + col], gg + col, 3);
                    // The last vector of the panel's last input would run past the panel: it goes through tail.
                    bool spills = i == inputs - 1 && r0 + lanes > mr;
                    for (int r = 0; r < 6; r++)
                    {
                        FilterTransform1D<TVec, TOps>(gg[3 * r], gg[3 * r + 1], gg[3 * r + 2], row, 1);
                        for (int c = 0; c < 6; c++)
                        {
                            float* at = dst + (6 * r + c) * length + (long)i * mr + r0;
                            TVec value = TOps.And(row[c], masks[gi]);
                            if (!spills) TOps.Store(value, ref *at);
                            else
                            {
                                TOps.Store(value, ref *tail);
                                new ReadOnlySpan<float>(tail, mr - r0).CopyTo(new Span<float>(at, mr - r0));
                            }
                        }
                    }
                }
        }
    }

    /// <summary>All-ones lanes then zeros: loading at 16 - n gives a mask of the first n lanes (n &lt;= 16).</summary>
    private static readonly float[] LaneMask = [.. Enumerable.Repeat(BitConverter.Int32BitsToSingle(-1), 16), .. new float[16]];

    /// <summary>G applied to (g0, g1, g2): six values written at out[0], out[stride], ...</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FilterTransform1D<TVec, TOps>(TVec g0, TVec g1, TVec g2, TVec* o, int stride) where TVec : unmanaged where TOps : IVectorOps<TVec>
    {
        TVec sum = TOps.Add(g0, g2), alt = TOps.Add(g0, TOps.Multiply(TOps.Broadcast(4f), g2)), g1x2 = TOps.Add(g1, g1);
        o[0] = TOps.Multiply(TOps.Broadcast(0.25f), g0);
        o[stride] = TOps.Multiply(TOps.Broadcast(-1f / 6), TOps.Add(sum, g1));
        o[2 * stride] = TOps.Multiply(TOps.Broadcast(-1f / 6), TOps.Subtract(sum, g1));
        o[3 * stride] = TOps.Multiply(TOps.Broadcast(1f / 24), TOps.Add(alt, g1x2));
        o[4 * stride] = TOps.Multiply(TOps.Broadcast(1f / 24), TOps.Subtract(alt, g1x2));
        o[5 * stride] = g2;
    }

    /// <summary>B^T applied to (d0, ..., d5).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputTransform1D<TVec, TOps>(TVec d0, TVec d1, TVec d2, TVec d3, TVec d4, TVec d5, TVec* t, int stride)
        where TVec : unmanaged where TOps : IVectorOps<TVec>
    {
        TVec four = TOps.Broadcast(4f), two = TOps.Broadcast(2f), five = TOps.Broadcast(-5f);
        TVec a = TOps.Subtract(d4, TOps.Multiply(four, d2)), b = TOps.Subtract(d3, TOps.Multiply(four, d1));
        TVec c = TOps.Subtract(d4, d2), e = TOps.Multiply(two, TOps.Subtract(d3, d1));
        t[0] = TOps.MultiplyAdd(four, d0, TOps.MultiplyAdd(five, d2, d4));
        t[stride] = TOps.Add(a, b);
        t[2 * stride] = TOps.Subtract(a, b);
        t[3 * stride] = TOps.Add(c, e);
        t[4 * stride] = TOps.Subtract(c, e);
        t[5 * stride] = TOps.MultiplyAdd(four, d1, TOps.MultiplyAdd(five, d3, d5));
    }

    /// <summary>A^T applied to (m0, ..., m5): four values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputTransform1D<TVec, TOps>(TVec m0, TVec m1, TVec m2, TVec m3, TVec m4, TVec m5, TVec* o, int stride)
        where TVec : unmanaged where TOps : IVectorOps<TVec>
    {
        TVec s12 = TOps.Add(m1, m2), d12 = TOps.Subtract(m1, m2), s34 = TOps.Add(m3, m4), d34 = TOps.Subtract(m3, m4);
        o[0] = TOps.Add(TOps.Add(m0, s12), s34);
        o[stride] = TOps.MultiplyAdd(TOps.Broadcast(2f), d34, d12);
        o[2 * stride] = TOps.MultiplyAdd(TOps.Broadcast(4f), s34, s12);
        o[3 * stride] = TOps.Add(TOps.MultiplyAdd(TOps.Broadcast(8f), d34, d12), m5);
    }

    // ---- the tiled forward pass ----

    /// <summary>
    /// The geometry of one Winograd forward: x (N, C, H, W) padded by Pad, outputs F channels of OutH x OutW in 4x4
    /// tiles, numbered image-major then tile row then tile column. Block sizes depend on C and F only.
    /// </summary>
    internal readonly struct Plan
    {
        public readonly int N, C, H, W, F, Pad, OutH, OutW, TilesX, TilesY, BlockTiles, Nr, Mr;

        public Plan(Shape4 x, int outputs, int pad, int outH, int outW)
        {
            (N, C, H, W, F, Pad, OutH, OutW) = (x.N, x.C, x.H, x.W, outputs, pad, outH, outW);
            (TilesX, TilesY) = ((outW + 3) / 4, (outH + 3) / 4);
            (Nr, Mr) = (PrePackedGemm.PanelWidth(outputs), PrePackedGemm.PanelHeight(outputs));
            // At most about 1 MiB of V and M per block (36 x (C + F) floats per tile), in whole NR-wide panels (1 to 16),
            // and at least 8 blocks where the tiles allow, so threads get even shares: (1,64,56,56) has 196 tiles, and
            // blocks of 64 left a last block of 4 (and one thread a quarter less work).
            long perTile = 36L * 4 * (x.C + RoundUp(outputs, Mr)), tiles = (long)x.N * ((outH + 3) / 4) * ((outW + 3) / 4);
            long budget = Math.Clamp(((1L << 20) / perTile + Nr - 1) / Nr * Nr, Nr, 16L * Nr);
            BlockTiles = (int)Math.Clamp((tiles / 8 + Nr - 1) / Nr * Nr, Nr, budget);
        }

        public long Tiles => (long)N * TilesY * TilesX;
        public int Blocks => (int)((Tiles + BlockTiles - 1) / BlockTiles);
        public int Columns => RoundUp(BlockTiles, Nr);
        /// <summary>Floats of a block's transformed input: 36 B operands of C x Columns.</summary>
        public long VLength => 36L * VStride;
        /// <summary>Floats from one B operand to the next (skewed, as the filter operands are).</summary>
        public long VStride => Skewed((long)C * Columns);
        /// <summary>Floats from one product matrix to the next (skewed).</summary>
        public long MStride => Skewed((long)RoundUp(F, Mr) * Columns);
        /// <summary>Floats of a block's products: 36 matrices of (F rounded to MR) x Columns, plus a vector of slack
        /// for the row reads.</summary>
        public long MLength => 36L * MStride + 16;
        /// <summary>Tile columns of a row segment's temporaries, with room for the vector overhang.</summary>
        public int RowTiles => RoundUp(TilesX, 16) + 32;
        /// <summary>Columns of the block temporaries (36 staged rows, 24 partial outputs), with room for the vector overhang.</summary>
        public int StageColumns => RoundUp(BlockTiles, 16) + 32;
        /// <summary>The padded input row, 36 staged rows and 24 partial outputs.</summary>
        public long TempLength => 4L * RowTiles + 16 + 60L * StageColumns + 64;
    }

    /// <summary>Throws before anything is written when a buffer of the call would exceed the largest scratch buffer.</summary>
    public static void EnsureScratchFits(in Plan plan)
    {
        Scratch.EnsureFits(Scratch.Role.Weights, FilterLength(plan.F, plan.C));
        Scratch.EnsureFits(Scratch.Role.Columns, plan.VLength);
        Scratch.EnsureFits(Scratch.Role.Products, plan.MLength);
        Scratch.EnsureFits(Scratch.Role.Rows, plan.TempLength);
    }

    /// <summary>
    /// y = conv(x, U) + b over the plan's tiles on at most <paramref name="threads"/> threads; u holds the transformed
    /// filters (<see cref="TransformFilters"/>), b may be null (no bias).
    /// </summary>
    public static void Forward(in Plan plan, float* x, float* u, float* b, float* y, int threads)
    {
        var blocks = new Blocks(plan, x, u, b, y);
        ForkJoin.Run(Math.Min(threads, plan.Blocks), ref blocks);
    }

    private readonly struct Blocks(Plan plan, float* x, float* u, float* b, float* y) : ITeamBody
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Invoke(in Team team)
        {
            (int first, int end) = Partition.Range(plan.Blocks, team.Index, team.Size);
            if (first == end) return;
            float* v = Scratch.Get(Scratch.Role.Columns, plan.VLength), m = Scratch.Get(Scratch.Role.Products, plan.MLength);
            float* temp = Scratch.Get(Scratch.Role.Rows, plan.TempLength);
            for (int block = first; block < end; block++)
            {
                switch (Isa.Width)
                {
                    case SimdWidth.Vector512: Block<Vector512<float>, V512>(plan, block, x, u, b, y, v, m, temp); break;
                    case SimdWidth.Vector256: Block<Vector256<float>, V256>(plan, block, x, u, b, y, v, m, temp); break;
                    case SimdWidth.Vector128: Block<Vector128<float>, V128>(plan, block, x, u, b, y, v, m, temp); break;
                    default: Block<float, ScalarOps>(plan, block, x, u, b, y, v, m, temp); break;
                }
            }
        }
    }

    /// <summary>
    /// One block of tiles. Per channel: each tile row segment is staged (its six input rows split four ways by column
    /// and transformed across, B^T d, into 36 rows over the block's tile columns), then the whole block is transformed
    /// down (B^T (.) B) a vector of tiles at a time and stored straight into the B panels. The 36 products follow, then
    /// per filter the same two passes backwards (A^T M, then (.) A interleaved into output rows).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block<TVec, TOps>(in Plan plan, int block, float* x, float* u, float* b, float* y, float* v, float* m, float* temp)
        where TVec : unmanaged where TOps : IVectorOps<TVec>
    {
        long t0 = (long)block * plan.BlockTiles, t1 = Math.Min(plan.Tiles, t0 + plan.BlockTiles);
        int columns = plan.Columns, used = (int)(t1 - t0);
        long vStride = plan.VStride, uStride = OperandStride(plan.F, plan.C), mStride = plan.MStride;
        float* row = temp, stage = row + 4L * plan.RowTiles + 16;
        // Columns past the block's last tile in its last panel are multiplied too: they must hold zeros, not stale data.
        if (used % plan.Nr != 0) ClearTailColumns(v, plan, used);

        for (int c = 0; c < plan.C; c++)
        {
            for (var segments = new Segments(plan, t0, t1); segments.Next(out int n, out int ty, out int tx0, out int nt, out int col);)
                StageInput<TVec, TOps>(plan, x + ((long)n * plan.C + c) * plan.H * plan.W, ty, tx0, nt, col, row, stage);
            TransformInput<TVec, TOps>(plan, used, stage, v + (long)c * plan.Nr, vStride);
        }
        // Only the panels the block's tiles reach (a short last block multiplies fewer columns).
        int reached = RoundUp(used, plan.Nr);
        for (int k = 0; k < 36; k++)
            PrePackedGemm.Multiply(u + k * uStride, v + k * vStride, plan.F, reached, plan.C, m + k * mStride, columns);
        for (int f = 0; f < plan.F; f++)
        {
            float* partial = stage;
            TransformOutput<TVec, TOps>(plan, used, m + (long)f * columns, mStride, partial);
            float bias = b == null ? 0f : b[f];
            for (var segments = new Segments(plan, t0, t1); segments.Next(out int n, out int ty, out int tx0, out int nt, out int col);)
                WriteOutput<TVec, TOps>(plan, partial, col, y + ((long)n * plan.F + f) * plan.OutH * plan.OutW, ty, tx0, nt, bias, row);
        }
    }

    /// <summary>The block's tiles [t0, t1) as tile row segments: image, tile row, first tile column, count, block column.</summary>
    private struct Segments(Plan plan, long first, long end)
    {
        private long _t = first;
        private readonly long _first = first;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool Next(out int image, out int tileRow, out int firstTile, out int tiles, out int column)
        {
            int tilesPerImage = plan.TilesY * plan.TilesX, rest = (int)(_t % tilesPerImage);
            (image, tileRow, firstTile) = ((int)(_t / tilesPerImage), rest / plan.TilesX, rest % plan.TilesX);
            tiles = (int)Math.Min(plan.TilesX - firstTile, end - _t);
            column = (int)(_t - _first);
            _t += tiles;
            return tiles > 0;
        }
    }

    private static void ClearTailColumns(float* v, in Plan plan, int used)
    {
        int nr = plan.Nr, firstPanel = used / nr, panels = (used + nr - 1) / nr;
        for (int k = 0; k < 36; k++)
            for (int p = firstPanel; p < panels; p++)
                for (int c = 0; c < plan.C; c++)
                {
                    int from = p == firstPanel ? used % nr : 0;
                    new Span<float>(v + k * plan.VStride + ((long)p * plan.C + c) * nr + from, nr - from).Clear();
                }
    }

    /// <summary>
    /// Stages tiles [tx0, tx0 + nt) of tile row ty of one channel plane at block columns col..: each of the six input
    /// rows is zero-padded into a temporary and split four ways by column (tile i reads row columns 4i .. 4i + 5: the
    /// splits of the row and of the row four floats on), then transformed across (B^T d) into stage row 6 r + nu.
    /// Vectors may run past nt: the next segment overwrites those columns, and the stage has room for the overhang.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StageInput<TVec, TOps>(in Plan plan, float* plane, int ty, int tx0, int nt, int col, float* row, float* stage)
        where TVec : unmanaged where TOps : IVectorOps<TVec>
    {
        int lanes = TOps.Count, columns = plan.StageColumns, vectors = (nt + lanes - 1) / lanes * lanes;
        int q0 = 4 * tx0 - plan.Pad, width = 4 * (vectors + 1);
        TVec* t = stackalloc TVec[6];
        for (int r = 0; r < 6; r++)
        {
            int hIn = 4 * ty - plan.Pad + r;
            // The padded row: zeros outside the image, input columns q0 .. q0 + width inside.
            int a = Math.Clamp(-q0, 0, width), z = Math.Clamp(plan.W - q0, a, width);
            if ((uint)hIn >= (uint)plan.H) a = z = width;
            new Span<float>(row, a).Clear();
            if (z > a) new ReadOnlySpan<float>(plane + (long)hIn * plan.W + q0 + a, z - a).CopyTo(new Span<float>(row + a, z - a));
            new Span<float>(row + z, width - z + 3 * lanes).Clear();
            float* h = stage + 6 * r * (nint)columns + col;
            for (int i = 0; i < vectors; i += lanes)
            {
                // d_j[i] = row[4 i + j]: two rounds of even/odd splits; d4, d5 from the same splits four floats on.
                float* s = row + 4 * i;
                TVec v0 = TOps.Load(in s[0]), v1 = TOps.Load(in s[lanes]), v2 = TOps.Load(in s[2 * lanes]), v3 = TOps.Load(in s[3 * lanes]);
                TVec e1 = TOps.Even(v0, v1), o1 = TOps.Odd(v0, v1), e2 = TOps.Even(v2, v3), o2 = TOps.Odd(v2, v3);
                TVec w0 = TOps.Load(in s[4]), w1 = TOps.Load(in s[4 + lanes]), w2 = TOps.Load(in s[4 + 2 * lanes]), w3 = TOps.Load(in s[4 + 3 * lanes]);
                TVec e1b = TOps.Even(w0, w1), o1b = TOps.Odd(w0, w1), e2b = TOps.Even(w2, w3), o2b = TOps.Odd(w2, w3);
                InputTransform1D<TVec, TOps>(TOps.Even(e1, e2), TOps.Even(o1, o2), TOps.Odd(e1, e2), TOps.Odd(o1, o2), TOps.Even(e1b, e2b), TOps.Even(o1b, o2b), t, 1);
                for (int nu = 0; nu < 6; nu++) TOps.Store(t[nu], ref h[nu * (nint)columns + i]);
            }
        }
    }

    /// <summary>
    /// The down pass of the input transform over the block's staged columns: V[xi, nu] = B^T over the six staged rows
    /// of column nu, a vector of tiles at a time, stored as row c of the 36 B operands (dst points at row c of operand
    /// 0). Panels are a whole number of vectors wide, so every store lands inside one panel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformInput<TVec, TOps>(in Plan plan, int used, float* stage, float* dst, long vStride)
        where TVec : unmanaged where TOps : IVectorOps<TVec>
    {
        int lanes = TOps.Count, columns = plan.StageColumns, nr = plan.Nr;
        TVec* t = stackalloc TVec[6];
        for (int j = 0; j < used; j += lanes)
        {
            float* panel = dst + (long)(j / nr) * plan.C * nr + j % nr;
            for (int nu = 0; nu < 6; nu++)
            {
                float* h = stage + nu * (nint)columns + j;
                InputTransform1D<TVec, TOps>(TOps.Load(in h[0]), TOps.Load(in h[6 * columns]), TOps.Load(in h[12 * columns]), TOps.Load(in h[18 * columns]),
                    TOps.Load(in h[24 * columns]), TOps.Load(in h[30 * columns]), t, 1);
                for (int xi = 0; xi < 6; xi++) TOps.Store(t[xi], ref panel[(6 * xi + nu) * vStride]);
            }
        }
    }

    /// <summary>
    /// The down pass of the output transform for one filter over the block's columns: P[r][nu] = A^T over the six
    /// products of column nu (operand k's row f at src + k * mStride), into partial row 6 r + nu.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformOutput<TVec, TOps>(in Plan plan, int used, float* src, long mStride, float* partial)
        where TVec : unmanaged where TOps : IVectorOps<TVec>
    {
        int lanes = TOps.Count, columns = plan.StageColumns;
        TVec* o = stackalloc TVec[4];
        for (int j = 0; j < used; j += lanes)
            for (int nu = 0; nu < 6; nu++)
            {
                float* mj = src + nu * mStride + j;
                OutputTransform1D<TVec, TOps>(TOps.Load(in mj[0]), TOps.Load(in mj[6 * mStride]), TOps.Load(in mj[12 * mStride]), TOps.Load(in mj[18 * mStride]),
                    TOps.Load(in mj[24 * mStride]), TOps.Load(in mj[30 * mStride]), o, 1);
                for (int r = 0; r < 4; r++) TOps.Store(o[r], ref partial[(6 * r + nu) * (nint)columns + j]);
            }
    }

    /// <summary>
    /// The across pass for one tile row segment: y[r][4 i + s] = A^T over P[r][0..5] of tile i, the four columns of
    /// each tile interleaved back into output row 4 ty + r, plus the bias; the row's last vectors go through a
    /// temporary so nothing past the output row's valid columns is written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WriteOutput<TVec, TOps>(in Plan plan, float* partial, int col, float* plane, int ty, int tx0, int nt, float bias, float* temp)
        where TVec : unmanaged where TOps : IVectorOps<TVec>
    {
        int lanes = TOps.Count, columns = plan.StageColumns, x0 = 4 * tx0, count = Math.Min(4 * nt, plan.OutW - x0);
        TVec* o = stackalloc TVec[4];
        TVec vb = TOps.Broadcast(bias);
        for (int r = 0; r < 4; r++)
        {
            int oy = 4 * ty + r;
            if (oy >= plan.OutH) break;
            float* line = plane + (long)oy * plan.OutW + x0;
            for (int i = 0; i < nt; i += lanes)
            {
                float* pr = partial + 6 * r * (nint)columns + col + i;
                OutputTransform1D<TVec, TOps>(TOps.Load(in pr[0]), TOps.Load(in pr[columns]), TOps.Load(in pr[2 * columns]), TOps.Load(in pr[3 * columns]),
                    TOps.Load(in pr[4 * columns]), TOps.Load(in pr[5 * columns]), o, 1);
                TVec a = TOps.ZipLow(o[0], o[2]), bb = TOps.ZipLow(o[1], o[3]), c = TOps.ZipHigh(o[0], o[2]), d = TOps.ZipHigh(o[1], o[3]);
                // The first element of each tile (+ bias): the reference adds the bias after the sum, so do we.
                bool whole = 4 * (i + lanes) <= count;
                float* to = whole ? line + 4 * i : temp;
                TOps.Store(TOps.Add(TOps.ZipLow(a, bb), vb), ref to[0]);
                TOps.Store(TOps.Add(TOps.ZipHigh(a, bb), vb), ref to[lanes]);
                TOps.Store(TOps.Add(TOps.ZipLow(c, d), vb), ref to[2 * lanes]);
                TOps.Store(TOps.Add(TOps.ZipHigh(c, d), vb), ref to[3 * lanes]);
                if (!whole) ShortRuns.Copy(temp, line + 4 * i, count - 4 * i);
            }
        }
    }

    private static int RoundUp(int x, int to) => (x + to - 1) / to * to;
}
