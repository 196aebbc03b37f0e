using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Kernels.Simd;

namespace Kernels.Convolution;

/// <summary>
/// The geometry of one image's convolution, and the im2col rows / col2im transform over a range of output pixels.
/// cols is K x count row-major, K = C*HH*WW (row k = (c, kh, kw)), column j = output pixel p0 + j
/// (pixel p = i*Wout + jj). <c>cols[k, j] = x[c, i*s - pad + kh, jj*s - pad + kw]</c>, 0 outside the image.
/// </summary>
internal readonly struct ConvGeometry(Shape4 x, Shape4 w, Conv2DParams p, Shape4 y)
{
    public readonly int Images = x.N, Filters = w.N, C = x.C, H = x.H, W = x.W, KH = w.H, KW = w.W, Stride = p.Stride, Pad = p.Pad, OutH = y.H, OutW = y.W;

    /// <summary>Rows of cols: C * HH * WW.</summary>
    public int K => C * KH * KW;
    /// <summary>Output pixels per image: Hout * Wout.</summary>
    public int Pixels => OutH * OutW;
    /// <summary>A 1x1, stride-1, unpadded convolution reads x itself as cols (C x H*W).</summary>
    public bool IsPointwise => KH == 1 && KW == 1 && Stride == 1 && Pad == 0;

    /// <summary>
    /// Output pixels per chunk: about 1 MiB of cols (K x chunk floats), so it stays in L2 between im2col writing it
    /// and GEMM packing it, but at least 512 pixels so each GEMM is wide enough to amortise packing its A (on
    /// x (8,256,14,14) * w (256,256,3,3), 113-pixel chunks ran at 57 GFLOP/s, whole 196-pixel images at 77).
    /// Scratch per worker is thus at most max(1 MiB, 2 KiB * K). A multiple of 32 (the widest GEMM panel)
    /// unless it covers the whole image. Never depends on the thread count.
    /// </summary>
    public int ChunkPixels
    {
        get
        {
            int chunk = Math.Max(512, (1 << 18) / K / 32 * 32);
            return Pixels <= chunk ? Pixels : chunk;
        }
    }

    /// <summary>Valid output columns [lo, hi) for filter column kw: those reading 0 &lt;= jj*s - pad + kw &lt; W.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private (int Lo, int Hi) ValidColumns(int kw)
    {
        int lo = Math.Max(0, CeilDiv(Pad - kw, Stride));
        int hi = Math.Min(OutW, CeilDiv(W + Pad - kw, Stride));
        return (lo, Math.Max(lo, hi));
    }

    // ceil(a / b) for b > 0; the usual (a + b - 1) / b overflows when a and b are both near 2^30.
    private static int CeilDiv(int a, int b) => a <= 0 ? -(-a / b) : a / b + (a % b != 0 ? 1 : 0);

    /// <summary>
    /// Writes row k = (c, kh, kw) of the im2col matrix for output pixels [p0, p0 + count) to dst (contiguous): the
    /// input row h = i*s - pad + kh under each pixel, shifted by kw, with zeros where it falls in the padding.
    /// </summary>
    public unsafe void FillRow(float* x, int k, int p0, int count, float* dst) => FillRow(x, k, p0, count, dst, count, 0);

    /// <summary>
    /// Writes row k of the im2col matrix for output pixels [p0, p0 + count) in panels: element j goes to
    /// <c>dst + (j / width) * panelStride + j % width</c>, and the last panel is zero-padded to a whole width.
    /// With width = NR and panelStride = K * NR this is the GEMM's packed B layout (<see cref="GemmInternals.PrePackedB"/>):
    /// im2col fused into packing, one pass from the image to the panels the microkernel reads.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe void FillRow(float* x, int k, int p0, int count, float* dst, int width, nint panelStride)
    {
        int kw = k % KW, kh = k / KW % KH, c = k / (KW * KH);
        if (IsShiftedCopy)
        {
            FillRowShifted(x + (long)c * H * W, kh, kw, p0, count, dst, width, panelStride);
            return;
        }
        (int lo, int hi) = ValidColumns(kw);
        var to = new PanelCursor(dst, width, panelStride, x + (long)C * H * W);
        // Output row i, column jj of pixel p, stepped run by run (no division per run).
        int i = p0 / OutW, jj = p0 % OutW;
        for (int left = count; left > 0; i++, jj = 0)
        {
            int run = Math.Min(OutW - jj, left);
            int h = i * Stride - Pad + kh;
            if ((uint)h >= (uint)H)
            {
                to.Zeros(run);
            }
            else
            {
                // Columns [a, b) read inside the row; the rest are padding zeros.
                int a = Math.Min(Math.Max(lo, jj), jj + run), b = Math.Min(Math.Max(hi, jj), jj + run);
                float* src = x + ((long)c * H + h) * W - Pad + kw;
                to.Zeros(a - jj);
                to.Copy(src + (long)a * Stride, b - a, Stride);
                to.Zeros(jj + run - b);
            }
            left -= run;
        }
        to.Zeros((count + width - 1) / width * width - count);
    }

    /// <summary>
    /// Forward im2col reads a zero-padded copy of the image when the rows are not one shifted copy
    /// (<see cref="IsShiftedCopy"/>) and there is padding: every window then lies inside the copy, so each output
    /// row is one run with no bounds logic (x (100,3,31,31), stride 2, best of alternating runs: 35-38 -> 43-48 GFLOP/s).
    /// Only while the copy stays small next to the image (at most 4x it plus 4 MiB: a 3x3 image with pad 1 is 2.8x):
    /// huge padding would make it dwarf the image, or exceed the largest buffer, where the general path (bounds per
    /// run, no copy) computes the same result.
    /// </summary>
    public bool ReadsPaddedCopy =>
        !IsShiftedCopy && !IsPointwise && Pad > 0 && PaddedLength <= Math.Min(4L * C * H * W + (1 << 20), Scratch.MaxLength);

    /// <summary>
    /// Every window lies inside the image the forward im2col reads (the padded copy, or x itself when there is no
    /// padding), so FillRowFromPadded applies; otherwise FillRow bounds each run.
    /// </summary>
    public bool WindowsInsideSource => ReadsPaddedCopy || (Pad == 0 && !IsShiftedCopy);

    /// <summary>Floats of the padded copy: C x (H + 2 pad) x (W + 2 pad), plus one so stride-2 vector reads never leave it.</summary>
    public long PaddedLength
    {
        get
        {
            // Each padded extent fits an int (Geometry), so their product fits a long; times C it might not.
            long plane = (H + 2L * Pad) * (W + 2L * Pad);
            return plane > Scratch.MaxLength ? long.MaxValue : C * plane + 1;
        }
    }

    /// <summary>
    /// Throws <see cref="OutOfMemoryException"/> before anything is written when a buffer the forward pass needs
    /// would exceed <see cref="Scratch.MaxLength"/>: the packed filters and a chunk of columns (the padded copy is
    /// bounded by <see cref="ReadsPaddedCopy"/>).
    /// </summary>
    public void EnsureForwardScratchFits(int filters)
    {
        int reduction = IsPointwise ? K : K + 1, nr = GemmInternals.GemmBlocking.For(filters).NR;
        Scratch.EnsureFits(Scratch.Role.Weights, GemmInternals.PrePacked.Length(filters, reduction));
        Scratch.EnsureFits(Scratch.Role.Columns, (long)reduction * ((ChunkPixels + nr - 1L) / nr * nr));
    }

    /// <summary>As <see cref="EnsureForwardScratchFits"/> for the backward pass: W^T packed and a chunk of column gradients.</summary>
    public void EnsureBackwardScratchFits(int filters)
    {
        Scratch.EnsureFits(Scratch.Role.Weights, GemmInternals.PrePacked.Length(K, filters));
        Scratch.EnsureFits(Scratch.Role.Columns, (long)K * ChunkPixels);
    }

    /// <summary>Writes the zero-padded copy of image x to xp (<see cref="PaddedLength"/> floats).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe void PadImage(float* x, float* xp)
    {
        int hp = H + 2 * Pad, wp = W + 2 * Pad;
        ShortRuns.Clear(xp, (int)PaddedLength); // fits an int: EnsureForwardScratchFits checked it against Scratch.MaxLength
        for (int c = 0; c < C; c++)
            for (int h = 0; h < H; h++)
                ShortRuns.Copy(x + ((long)c * H + h) * W, xp + ((long)c * hp + h + Pad) * wp + Pad, W);
    }

    /// <summary>
    /// FillRow in panels from the padded copy xp (or from x itself when there is no padding): output row i of row
    /// (c, kh, kw) reads xp[c, i*s + kh, kw + jj*s] for every jj, all inside xp.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe void FillRowFromPadded(float* xp, int k, int p0, int count, float* dst, int width, nint panelStride)
    {
        int kw = k % KW, kh = k / KW % KH, c = k / (KW * KH), hp = H + 2 * Pad, wp = W + 2 * Pad;
        var to = new PanelCursor(dst, width, panelStride, xp + (Pad > 0 ? PaddedLength : (long)C * H * W));
        int i = p0 / OutW, jj = p0 % OutW;
        for (int left = count; left > 0; i++, jj = 0)
        {
            int run = Math.Min(OutW - jj, left);
            to.Copy(xp + ((long)c * hp + i * Stride + kh) * wp + kw + (long)jj * Stride, run, Stride);
            left -= run;
        }
        to.Zeros((count + width - 1) / width * width - count);
    }

    /// <summary>
    /// Stride 1 and Wout = W ("same" padding, 2*pad = WW - 1): pixel p of row (c, kh, kw) reads plane c at the flat
    /// offset p + (kh - pad)*W + (kw - pad), so the whole row is one contiguous copy (zeros where that offset leaves
    /// the plane) plus a zero at each output row's padded columns. Per 512-pixel row that is 16 panel-sized copies and
    /// a few stores instead of one piece per output row and panel (x (8,64,56,56) forward, best of alternating runs:
    /// 91-101 -> 99-107 GFLOP/s).
    /// </summary>
    public bool IsShiftedCopy => Stride == 1 && OutW == W;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private unsafe void FillRowShifted(float* plane, int kh, int kw, int p0, int count, float* dst, int width, nint panelStride)
    {
        (int jLo, int jHi, long shift) = ShiftedRange(kh, kw, p0, count);
        var to = new PanelCursor(dst, width, panelStride, plane + (long)H * W);
        to.Zeros(jLo);
        to.Copy(plane + p0 + jLo + shift, jHi - jLo, 1);
        to.Zeros(count - jHi + (count + width - 1) / width * width - count);
        ZeroWrappedColumns(kw, p0, count, dst, width, panelStride);
    }

    /// <summary>
    /// Flat offset of tap (kh, kw) in a shifted row, and the columns j in [jLo, jHi) of pixels [p0, p0 + count) that
    /// read inside the plane (0 &lt;= p0 + j + shift &lt; H*W). In 64 bits: (kh - pad) * W can exceed an int.
    /// </summary>
    private (int JLo, int JHi, long Shift) ShiftedRange(int kh, int kw, int p0, int count)
    {
        long shift = (long)(kh - Pad) * W + (kw - Pad), planeLength = (long)H * W;
        long jLo = Math.Min(Math.Max(-shift - p0, 0), count), jHi = Math.Min(Math.Max(planeLength - shift - p0, jLo), count);
        return ((int)jLo, (int)jHi, shift);
    }

    /// <summary>
    /// In a shifted row (see FillRowShifted), output columns jj that read left of the input row (jj &lt; pad - kw) or
    /// right of it (jj &gt;= W + pad - kw) wrapped into the neighbouring input row: zero them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private unsafe void ZeroWrappedColumns(int kw, int p0, int count, float* dst, int width, nint panelStride)
    {
        long left = Math.Min(Pad - kw, W), right = Math.Max((long)W + Pad - kw, 0);
        if (left <= 0 && right >= W) return;
        // Panels are a power of two wide (NR), so column j sits at (j >> log2 width) * panelStride + (j & (width - 1)).
        System.Diagnostics.Debug.Assert(panelStride == 0 || System.Numerics.BitOperations.IsPow2(width), "panel width must be a power of two");
        int log2 = System.Numerics.BitOperations.Log2((uint)width), mask = width - 1;
        for (long rowStart = -(p0 % OutW); rowStart < count; rowStart += OutW)
        {
            for (int j = (int)Math.Max(rowStart, 0), end = (int)Math.Min(rowStart + left, count); j < end; j++)
                dst[panelStride == 0 ? j : (j >> log2) * panelStride + (j & mask)] = 0f;
            for (int j = (int)Math.Min(Math.Max(rowStart + right, 0), count), end = (int)Math.Min(rowStart + W, count); j < end; j++)
                dst[panelStride == 0 ? j : (j >> log2) * panelStride + (j & mask)] = 0f;
        }
    }

    /// <summary>Where the next column of a row in panels goes (see FillRow): a panel pointer and the column in it.</summary>
    /// <remarks>limit: the end of the image, which stride-2 copies may read up to (see <see cref="ShortRuns.CopyEven"/>).</remarks>
    private unsafe struct PanelCursor(float* panel, int width, nint panelStride, float* limit)
    {
        private float* _panel = panel;
        private int _q;

        /// <summary>The next n columns = src[0], src[stride], ...</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Copy(float* src, int n, int stride)
        {
            while (n > 0)
            {
                int piece = Math.Min(n, width - _q);
                float* d = _panel + _q;
                if (stride == 1) ShortRuns.Copy(src, d, piece);
                else if (stride == 2) ShortRuns.CopyEven(src, d, piece, limit);
                else for (int t = 0; t < piece; t++) d[t] = src[(long)t * stride];
                src += (long)piece * stride;
                Advance(piece);
                n -= piece;
            }
        }

        /// <summary>The next n columns = 0.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Zeros(int n)
        {
            while (n > 0)
            {
                int piece = Math.Min(n, width - _q);
                ShortRuns.Clear(_panel + _q, piece);
                Advance(piece);
                n -= piece;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Advance(int piece)
        {
            _q += piece;
            if (_q == width)
            {
                _q = 0;
                _panel += panelStride;
            }
        }
    }

    /// <summary>
    /// Adds dcols (K x count, contiguous rows; used as scratch: its padding entries are zeroed) back into image dx
    /// (C x H x W): the transpose of FillRow over every row, row after row, so each dx element receives its terms
    /// in the same order whatever the vector width. Only channels [c0, c1) (default: all): channels write disjoint
    /// planes of dx, so threads can share one image's col2im by channel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe void Col2ImAdd(float* dcols, int p0, int count, float* dx, int c0 = 0, int c1 = -1)
    {
        if (c1 < 0) c1 = C;
        dcols += (long)c0 * KH * KW * count;
        for (int c = c0; c < c1; c++)
        for (int kh = 0; kh < KH; kh++)
        for (int kw = 0; kw < KW; kw++, dcols += count)
        {
            if (IsShiftedCopy)
            {
                // The inverse of FillRowShifted: drop the wrapped columns, then one contiguous add.
                (int jLo, int jHi, long shift) = ShiftedRange(kh, kw, p0, count);
                ZeroWrappedColumns(kw, p0, count, dcols, count, 0);
                var plane = new Span<float>(dx + (long)c * H * W + p0 + jLo + shift, jHi - jLo);
                TensorPrimitives.Add(plane, new ReadOnlySpan<float>(dcols + jLo, jHi - jLo), plane);
                continue;
            }
            (int lo, int hi) = ValidColumns(kw);
            for (int p = p0, end = p0 + count; p < end;)
            {
                int i = p / OutW, jj = p % OutW, run = Math.Min(OutW - jj, end - p);
                int h = i * Stride - Pad + kh;
                if ((uint)h < (uint)H)
                {
                    float* src = dcols + (p - p0);
                    float* dst = dx + ((long)c * H + h) * W - Pad + kw;
                    int a = Math.Max(jj, lo), b = Math.Min(jj + run, hi);
                    if (Stride == 1 && b > a)
                    {
                        var row = new Span<float>(dst + a, b - a);
                        TensorPrimitives.Add(row, new ReadOnlySpan<float>(src + (a - jj), b - a), row);
                    }
                    else
                    {
                        for (int j = a; j < b; j++) dst[j * Stride] += src[j - jj];
                    }
                }
                p += run;
            }
        }
    }
}

/// <summary>
/// Packs op(B) = im2col(x)^T (pixels x K) straight from the image, for the filter gradient dw = dout * im2col(x)^T.
/// </summary>
/// <remarks>Column j of op(B) is im2col row firstRow + j, so a GEMM can compute a range of dw's columns.</remarks>
internal readonly unsafe struct Im2ColTransposedPackB(ConvGeometry g, float* image, int firstRow) : GemmInternals.IPackB
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(int j0, int cols, int nr, int pc, int kc, float* dst)
    {
        // Columns q of the panel are im2col rows j0 + q over pixels [pc, pc + kc): fill them as rows of a
        // block (kc <= KC floats each, kept per thread), then transpose the block into the panel.
        {
            float* rows = Scratch.Get(Scratch.Role.Transposed, (long)cols * kc);
            for (int q = 0; q < cols; q++) g.FillRow(image, firstRow + j0 + q, pc, kc, rows + (nint)q * kc);
            Simd.Transpose.Matrix(rows, kc, cols, kc, dst, nr);
        }
        for (int p = 0; p < kc; p++) Simd.ShortRuns.Clear(dst + (nint)p * nr + cols, nr - cols);
    }
}
