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
internal static unsafe class Winograd
{
    /// <summary>3x3 filters, stride 1, padding 0-2 (the input gradient then pads by 2 - pad, which must not crop).</summary>
    public static bool Supports(Shape4 w, Conv2DParams p) => w.H == 3 && w.W == 3 && p.Stride == 1 && p.Pad <= 2;

    // ---- filter transform: U = G g G^T, packed as 36 A operands (outputs x inputs) ----

    /// <summary>Floats of the transformed filters: 36 matrices of outputs x inputs, each in the microkernel's A panels.</summary>
    public static long FilterLength(int outputs, int inputs) => 36 * PrePacked.Length(outputs, inputs);

    /// <summary>
    /// U[xi, nu] = (G g G^T)[xi, nu] for every (output, input) pair, written as 36 pre-packed A operands. For the
    /// forward pass g = w[f, c] (outputs F, inputs C); for the input gradient g = w[f, c] rotated by 180 degrees and
    /// transposed (outputs C, inputs F), which turns dx into a forward convolution of dout.
    /// </summary>
    public static void TransformFilters(float* w, int filters, int channels, bool gradient, float* u, int threads)
    {
        int outputs = gradient ? channels : filters, inputs = gradient ? filters : channels, mr = PrePackedGemm.PanelHeight(outputs);
        int panels = (outputs + mr - 1) / mr;
        Parallelism.For(panels, Partition.Threads(threads, (long)outputs * inputs * 150, 1 << 20), new FilterPanels(w, filters, channels, gradient, u));
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

        /// <summary>Rows [o0, o0 + mr) of every U: taps transposed to run over inputs, transformed a vector of inputs at a time, transposed into the panel.</summary>
        private void Panel<TVec, TOps>(int panel) where TVec : unmanaged where TOps : IVectorOps<TVec>
        {
            int outputs = gradient ? channels : filters, inputs = gradient ? filters : channels, mr = PrePackedGemm.PanelHeight(outputs);
            int lanes = TOps.Count, padded = (inputs + lanes - 1) / lanes * lanes, o0 = panel * mr;
            long length = PrePacked.Length(outputs, inputs);
            // taps: 9 x padded (tap-major, inputs contiguous); rows: 36 x mr x padded.
            float* taps = Scratch.Get(Scratch.Role.Transposed, 9L * padded + 36L * mr * padded);
            float* rows = taps + 9L * padded;
            new Span<float>(rows, 36 * mr * padded).Clear(); // rows past the last output stay zero in the panel
            TVec* g = stackalloc TVec[9], gg = stackalloc TVec[18], row = stackalloc TVec[6];
            for (int o = o0; o < Math.Min(outputs, o0 + mr); o++)
            {
                // taps[t][i] = g_i[t]: forward g_i = w[o, i], gradient g_i = w[i, o] rotated (tap t read at 8 - t).
                if (gradient) Simd.Transpose.Matrix(w + (long)o * 9, (nint)channels * 9, inputs, 9, taps, padded);
                else Simd.Transpose.Matrix(w + (long)o * channels * 9, 9, inputs, 9, taps, padded);
                for (int i = 0; i < padded; i += lanes)
                {
                    for (int t = 0; t < 9; t++) g[t] = TOps.Load(in taps[(gradient ? 8 - t : t) * (nint)padded + i]);
                    // G g (6 x 3), column by column, then (G g) G^T (6 x 6), row by row.
                    for (int col = 0; col < 3; col++)
                        FilterTransform1D<TVec, TOps>(g[col], g[3 + col], g[6 + col], gg + col, 3);
                    for (int r = 0; r < 6; r++)
                    {
                        FilterTransform1D<TVec, TOps>(gg[3 * r], gg[3 * r + 1], gg[3 * r + 2], row, 1);
                        for (int c = 0; c < 6; c++)
                            TOps.Store(row[c], ref rows[((nint)(6 * r + c) * mr + (o - o0)) * padded + i]);
                    }
                }
            }
            // Each U[xi nu] panel is the transpose of its mr x inputs rows block: column-major within the panel.
            for (int k = 0; k < 36; k++)
                Simd.Transpose.Matrix(rows + (nint)k * mr * padded, padded, mr, inputs, u + k * length + (long)panel * mr * inputs, mr);
        }
    }

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
            // About 1 MiB of V and M per block (36 x (C + F) floats per tile), in whole NR-wide panels, 1 to 16 of them.
            long perTile = 36L * 4 * (x.C + RoundUp(outputs, Mr));
            BlockTiles = (int)Math.Clamp(((1L << 20) / perTile + Nr - 1) / Nr * Nr, Nr, 16L * Nr);
        }

        public long Tiles => (long)N * TilesY * TilesX;
        public int Blocks => (int)((Tiles + BlockTiles - 1) / BlockTiles);
        public int Columns => RoundUp(BlockTiles, Nr);
        /// <summary>Floats of a block's transformed input: 36 B operands of C x Columns.</summary>
        public long VLength => 36L * C * Columns;
        /// <summary>Floats of a block's products: 36 matrices of (F rounded to MR) x Columns, plus a vector of slack for the row reads.</summary>
        public long MLength => 36L * RoundUp(F, Mr) * Columns + 16;
        /// <summary>Tile columns of the row temporaries, with room for the one-tile look-ahead and a whole last vector.</summary>
        public int RowTiles => RoundUp(TilesX, 16) + 32;
        public long TempLength => 150L * RowTiles + 64;
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

    /// <summary>One block of tiles: input transform into B panels, 36 products, output transform into y.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block<TVec, TOps>(in Plan plan, int block, float* x, float* u, float* b, float* y, float* v, float* m, float* temp)
        where TVec : unmanaged where TOps : IVectorOps<TVec>
    {
        long t0 = (long)block * plan.BlockTiles, t1 = Math.Min(plan.Tiles, t0 + plan.BlockTiles);
        int columns = plan.Columns, tilesPerImage = plan.TilesY * plan.TilesX;
        long vStride = (long)plan.C * columns, uStride = PrePacked.Length(plan.F, plan.C), mStride = (long)RoundUp(plan.F, plan.Mr) * columns;
        // Columns past the block's last tile are multiplied too (whole panels): they must hold zeros, not stale data.
        if (t1 - t0 < columns) ClearTailColumns(v, plan, (int)(t1 - t0));

        for (long t = t0; t < t1;)
        {
            int n = (int)(t / tilesPerImage), rest = (int)(t % tilesPerImage), ty = rest / plan.TilesX, tx0 = rest % plan.TilesX;
            int nt = (int)Math.Min(plan.TilesX - tx0, t1 - t), col = (int)(t - t0);
            for (int c = 0; c < plan.C; c++)
                InputRow<TVec, TOps>(plan, x + ((long)n * plan.C + c) * plan.H * plan.W, ty, tx0, nt, v + (long)c * plan.Nr, col, vStride, temp);
            t += nt;
        }
        for (int k = 0; k < 36; k++)
            PrePackedGemm.Multiply(u + k * uStride, v + k * vStride, plan.F, columns, plan.C, m + k * mStride, columns);
        for (long t = t0; t < t1;)
        {
            int n = (int)(t / tilesPerImage), rest = (int)(t % tilesPerImage), ty = rest / plan.TilesX, tx0 = rest % plan.TilesX;
            int nt = (int)Math.Min(plan.TilesX - tx0, t1 - t), col = (int)(t - t0);
            for (int f = 0; f < plan.F; f++)
                OutputRow<TVec, TOps>(plan, m + (long)f * columns + col, mStride, y + ((long)n * plan.F + f) * plan.OutH * plan.OutW, ty, tx0, nt,
                    b == null ? 0f : b[f], temp);
            t += nt;
        }
    }

    private static void ClearTailColumns(float* v, in Plan plan, int used)
    {
        int nr = plan.Nr, firstPanel = used / nr, panels = plan.Columns / nr;
        for (int k = 0; k < 36; k++)
            for (int p = firstPanel; p < panels; p++)
                for (int c = 0; c < plan.C; c++)
                {
                    int from = p == firstPanel ? used % nr : 0;
                    new Span<float>(v + k * (long)plan.C * plan.Columns + ((long)p * plan.C + c) * nr + from, nr - from).Clear();
                }
    }

    /// <summary>
    /// The input transform of tiles [tx0, tx0 + nt) of tile row ty in one channel plane: each of the six input rows is
    /// zero-padded into a temporary, split 4 ways by column (tile column i reads row columns 4i .. 4i + 5), and
    /// transformed across (B^T d); the six results are transformed down (B^T (.) B) and written as row c of the 36
    /// B operands, columns col .. col + nt (dst points at row c of operand 0).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InputRow<TVec, TOps>(in Plan plan, float* plane, int ty, int tx0, int nt, float* dst, int col, long vStride, float* temp)
        where TVec : unmanaged where TOps : IVectorOps<TVec>
    {
        int lanes = TOps.Count, stride = plan.RowTiles, vectors = (nt + lanes - 1) / lanes * lanes;
        float* row = temp, k = row + 4L * stride + 16, h = k + 4L * stride, rows36 = h + 36L * stride;
        int q0 = 4 * tx0 - plan.Pad, width = 4 * (vectors + lanes);
        TVec* t = stackalloc TVec[6];
        for (int r = 0; r < 6; r++)
        {
            int hIn = 4 * ty - plan.Pad + r;
            // The padded row: zeros outside the image, input columns q0 .. q0 + width inside.
            int a = Math.Clamp(-q0, 0, width), z = Math.Clamp(plan.W - q0, a, width);
            if ((uint)hIn >= (uint)plan.H) { a = z = width; }
            new Span<float>(row, a).Clear();
            if (z > a) new ReadOnlySpan<float>(plane + (long)hIn * plan.W + q0 + a, z - a).CopyTo(new Span<float>(row + a, z - a));
            new Span<float>(row + z, width - z).Clear();
            // k_j[i] = row[4 i + j] for j < 4: two rounds of even/odd splits of four vectors.
            for (int i = 0; i < vectors + lanes; i += lanes)
            {
                TVec v0 = TOps.Load(in row[4 * i]), v1 = TOps.Load(in row[4 * i + lanes]), v2 = TOps.Load(in row[4 * i + 2 * lanes]), v3 = TOps.Load(in row[4 * i + 3 * lanes]);
                TVec e1 = TOps.Even(v0, v1), o1 = TOps.Odd(v0, v1), e2 = TOps.Even(v2, v3), o2 = TOps.Odd(v2, v3);
                TOps.Store(TOps.Even(e1, e2), ref k[i]);
                TOps.Store(TOps.Even(o1, o2), ref k[stride + i]);
                TOps.Store(TOps.Odd(e1, e2), ref k[2 * stride + i]);
                TOps.Store(TOps.Odd(o1, o2), ref k[3 * stride + i]);
            }
            // Across: tile i reads d = (k0[i], k1[i], k2[i], k3[i], k0[i + 1], k1[i + 1]).
            for (int i = 0; i < vectors; i += lanes)
            {
                InputTransform1D<TVec, TOps>(TOps.Load(in k[i]), TOps.Load(in k[stride + i]), TOps.Load(in k[2 * stride + i]), TOps.Load(in k[3 * stride + i]),
                    TOps.Load(in k[i + 1]), TOps.Load(in k[stride + i + 1]), t, 1);
                for (int j = 0; j < 6; j++) TOps.Store(t[j], ref h[(6 * r + j) * (nint)stride + i]);
            }
        }
        // Down: V[xi, nu] = B^T over the six rows of column nu.
        for (int nu = 0; nu < 6; nu++)
            for (int i = 0; i < vectors; i += lanes)
            {
                InputTransform1D<TVec, TOps>(TOps.Load(in h[nu * (nint)stride + i]), TOps.Load(in h[(6 + nu) * (nint)stride + i]),
                    TOps.Load(in h[(12 + nu) * (nint)stride + i]), TOps.Load(in h[(18 + nu) * (nint)stride + i]),
                    TOps.Load(in h[(24 + nu) * (nint)stride + i]), TOps.Load(in h[(30 + nu) * (nint)stride + i]), t, 1);
                for (int xi = 0; xi < 6; xi++) TOps.Store(t[xi], ref rows36[(6 * xi + nu) * (nint)stride + i]);
            }
        // Scatter each operand's run into its NR-wide panels: column j of row c at ((j / NR) * C + c) * NR + j % NR.
        int nr = plan.Nr;
        for (int kk = 0; kk < 36; kk++)
        {
            float* src = rows36 + kk * (nint)stride, panelRow = dst + kk * vStride;
            for (int j = col, done = 0; done < nt;)
            {
                int piece = Math.Min(nt - done, nr - j % nr);
                ShortRuns.Copy(src + done, panelRow + (long)(j / nr) * plan.C * nr + j % nr, piece);
                done += piece;
                j += piece;
            }
        }
    }

    /// <summary>
    /// The output transform of tiles [tx0, tx0 + nt) of tile row ty for one filter: the 36 products (operand k's
    /// row f at src + k * mStride) are transformed down (A^T M) and across (. A), interleaved back into four output
    /// rows, and written with the bias where they fall inside the output.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OutputRow<TVec, TOps>(in Plan plan, float* src, long mStride, float* plane, int ty, int tx0, int nt, float bias, float* temp)
        where TVec : unmanaged where TOps : IVectorOps<TVec>
    {
        int lanes = TOps.Count, stride = plan.RowTiles, vectors = (nt + lanes - 1) / lanes * lanes;
        float* p = temp, outRow = p + 24L * stride;
        TVec* o = stackalloc TVec[4];
        // Down: P[r][nu] = A^T over the six products of column nu.
        for (int nu = 0; nu < 6; nu++)
            for (int i = 0; i < vectors; i += lanes)
            {
                OutputTransform1D<TVec, TOps>(TOps.Load(in src[nu * mStride + i]), TOps.Load(in src[(6 + nu) * mStride + i]), TOps.Load(in src[(12 + nu) * mStride + i]),
                    TOps.Load(in src[(18 + nu) * mStride + i]), TOps.Load(in src[(24 + nu) * mStride + i]), TOps.Load(in src[(30 + nu) * mStride + i]), o, 1);
                for (int r = 0; r < 4; r++) TOps.Store(o[r], ref p[(6 * r + nu) * (nint)stride + i]);
            }
        int x0 = 4 * tx0, count = Math.Min(4 * nt, plan.OutW - x0);
        for (int r = 0; r < 4; r++)
        {
            int oy = 4 * ty + r;
            if (oy >= plan.OutH) break;
            // Across: y[r][4 i + j] = A^T over P[r][0..5] of tile i; then interleave the four columns of each tile.
            for (int i = 0; i < vectors; i += lanes)
            {
                float* pr = p + 6 * r * (nint)stride + i;
                OutputTransform1D<TVec, TOps>(TOps.Load(in pr[0]), TOps.Load(in pr[stride]), TOps.Load(in pr[2 * stride]), TOps.Load(in pr[3 * stride]),
                    TOps.Load(in pr[4 * stride]), TOps.Load(in pr[5 * stride]), o, 1);
                TVec a = TOps.ZipLow(o[0], o[2]), bb = TOps.ZipLow(o[1], o[3]), c = TOps.ZipHigh(o[0], o[2]), d = TOps.ZipHigh(o[1], o[3]);
                TOps.Store(TOps.ZipLow(a, bb), ref outRow[4 * i]);
                TOps.Store(TOps.ZipHigh(a, bb), ref outRow[4 * i + lanes]);
                TOps.Store(TOps.ZipLow(c, d), ref outRow[4 * i + 2 * lanes]);
                TOps.Store(TOps.ZipHigh(c, d), ref outRow[4 * i + 3 * lanes]);
            }
            var line = new Span<float>(plane + (long)oy * plan.OutW + x0, count);
            TensorPrimitives.Add(new ReadOnlySpan<float>(outRow, count), bias, line);
        }
    }

    private static int RoundUp(int x, int to) => (x + to - 1) / to * to;
}
