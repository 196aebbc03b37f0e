using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Kernels.Simd;

namespace Kernels.Convolution;

/// <summary>
/// The geometry of one convolution, and the im2col rows / col2im transform of one group of one image over a range
/// of output pixels. x has <see cref="Channels"/> channels in <see cref="Groups"/> groups of
/// <see cref="GroupChannels"/> (the filters' C); the <see cref="Filters"/> filters fall into groups of
/// <see cref="GroupFilters"/>. cols is K x count row-major, K = GroupChannels*HH*WW (row k = (c, kh, kw) within the
/// group), column j = output pixel p0 + j (pixel p = i*Wout + jj).
/// <c>cols[k, j] = x[c, i*sH - padTop + kh*dH, jj*sW - padLeft + kw*dW]</c>, 0 outside the image; the image pointer
/// the methods take is the group's first channel.
/// </summary>
internal readonly struct ConvGeometry(Shape4 x, Shape4 w, Conv2DParams p, Shape4 y)
{
    public readonly int Images = x.N, Filters = w.N, Channels = x.C, GroupChannels = w.C, Groups = p.Groups;
    public readonly int H = x.H, W = x.W, KH = w.H, KW = w.W, StrideH = p.StrideH, StrideW = p.StrideW;
    public readonly int PadTop = p.PadTop, PadBottom = p.PadBottom, PadLeft = p.PadLeft, PadRight = p.PadRight;
    public readonly int DilationH = p.DilationH, DilationW = p.DilationW, OutH = y.H, OutW = y.W;

    /// <summary>Filters per group.</summary>
    public int GroupFilters => Filters / Groups;
    /// <summary>Rows of cols: GroupChannels * HH * WW.</summary>
    public int K => GroupChannels * KH * KW;
    /// <summary>Output pixels per image: Hout * Wout.</summary>
    public int Pixels => OutH * OutW;
    /// <summary>Floats of one input image (all groups): Channels * H * W.</summary>
    public long InputImage => (long)Channels * H * W;
    /// <summary>Floats of one output image (all groups): Filters * Pixels.</summary>
    public long OutputImage => (long)Filters * Pixels;
    /// <summary>Floats of one group's input channels within an image.</summary>
    public long GroupInput => (long)GroupChannels * H * W;
    /// <summary>No padding on any side.</summary>
    public bool Unpadded => (PadTop | PadBottom | PadLeft | PadRight) == 0;
    /// <summary>Padded extents: H + PadTop + PadBottom rows of W + PadLeft + PadRight columns.</summary>
    public int PaddedH => H + PadTop + PadBottom;
    /// <inheritdoc cref="PaddedH"/>
    public int PaddedW => W + PadLeft + PadRight;
    /// <summary>A 1x1, stride-1, unpadded convolution reads x itself as cols (C x H*W).</summary>
    public bool IsPointwise => KH == 1 && KW == 1 && StrideH == 1 && StrideW == 1 && Unpadded;

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

    /// <summary>Valid output columns [lo, hi) for the tap tw = kw*dW columns right: those reading 0 &lt;= jj*sW -
    /// padLeft + tw &lt; W.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private (int Lo, int Hi) ValidColumns(int tw)
    {
        int lo = Math.Max(0, CeilDiv(PadLeft - tw, StrideW));
        int hi = Math.Min(OutW, CeilDiv(W + PadLeft - tw, StrideW));
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
        int tw = k % KW * DilationW, th = k / KW % KH * DilationH, c = k / (KW * KH);
        if (IsShiftedCopy)
        {
            FillRowShifted(x + (long)c * H * W, th, tw, p0, count, dst, width, panelStride);
            return;
        }
        (int lo, int hi) = ValidColumns(tw);
        var to = new PanelCursor(dst, width, panelStride, x + GroupInput);
        // Output row i, column jj of pixel p, stepped run by run (no division per run).
        int i = p0 / OutW, jj = p0 % OutW;
        for (int left = count; left > 0; i++, jj = 0)
        {
            int run = Math.Min(OutW - jj, left);
            int h = i * StrideH - PadTop + th;
            if ((uint)h >= (uint)H)
            {
                to.Zeros(run);
            }
            else
            {
                // Columns [a, b) read inside the row; the rest are padding zeros.
                int a = Math.Min(Math.Max(lo, jj), jj + run), b = Math.Min(Math.Max(hi, jj), jj + run);
                float* src = x + ((long)c * H + h) * W - PadLeft + tw;
                to.Zeros(a - jj);
                to.Copy(src + (long)a * StrideW, b - a, StrideW);
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
        !IsShiftedCopy && !IsPointwise && !Unpadded && PaddedLength <= Math.Min(4L * GroupInput + (1 << 20), Scratch.MaxLength);

    /// <summary>
    /// Every window lies inside the image the forward im2col reads (the padded copy, or x itself when there is no
    /// padding), so FillRowFromPadded applies; otherwise FillRow bounds each run.
    /// </summary>
    public bool WindowsInsideSource => ReadsPaddedCopy || (Unpadded && !IsShiftedCopy);

    /// <summary>Floats of one group's padded copy: GroupChannels x PaddedH x PaddedW, plus one so stride-2 vector reads
    /// never leave it.</summary>
    public long PaddedLength
    {
        get
        {
            // Each padded extent fits an int (Geometry), so their product fits a long; times C it might not.
            long plane = (long)PaddedH * PaddedW;
            return plane > Scratch.MaxLength ? long.MaxValue : GroupChannels * plane + 1;
        }
    }

    /// <summary>Writes the zero-padded copy of one group's channels of an image x to xp (<see cref="PaddedLength"/> floats).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe void PadImage(float* x, float* xp)
    {
        int hp = PaddedH, wp = PaddedW;
        ShortRuns.Clear(xp, (int)PaddedLength); // fits an int: EnsureForwardScratchFits checked it against Scratch.MaxLength
        for (int c = 0; c < GroupChannels; c++)
            for (int h = 0; h < H; h++)
                ShortRuns.Copy(x + ((long)c * H + h) * W, xp + ((long)c * hp + h + PadTop) * wp + PadLeft, W);
    }

    /// <summary>
    /// FillRow in panels from the padded copy xp (or from x itself when there is no padding): output row i of row
    /// (c, kh, kw) reads xp[c, i*sH + kh*dH, kw*dW + jj*sW] for every jj, all inside xp.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe void FillRowFromPadded(float* xp, int k, int p0, int count, float* dst, int width, nint panelStride)
    {
        int tw = k % KW * DilationW, th = k / KW % KH * DilationH, c = k / (KW * KH), hp = PaddedH, wp = PaddedW;
        var to = new PanelCursor(dst, width, panelStride, xp + (Unpadded ? GroupInput : PaddedLength));
        int i = p0 / OutW, jj = p0 % OutW;
        for (int left = count; left > 0; i++, jj = 0)
        {
            int run = Math.Min(OutW - jj, left);
            to.Copy(xp + ((long)c * hp + i * StrideH + th) * wp + tw + (long)jj * StrideW, run, StrideW);
            left -= run;
        }
        to.Zeros((count + width - 1) / width * width - count);
    }

    /// <summary>
    /// Stride 1 and Wout = W ("same" padding, padLeft + padRight = dW*(WW - 1)): pixel p of row (c, kh, kw) reads plane c
    /// at the flat offset p + (kh*dH - padTop)*W + (kw*dW - padLeft), so the whole row is one contiguous copy (zeros
    /// where that offset leaves
    /// the plane) plus a zero at each output row's padded columns. Per 512-pixel row that is 16 panel-sized copies and
    /// a few stores instead of one piece per output row and panel (x (8,64,56,56) forward, best of alternating runs:
    /// 91-101 -> 99-107 GFLOP/s).
    /// </summary>
    public bool IsShiftedCopy => StrideH == 1 && StrideW == 1 && OutW == W;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private unsafe void FillRowShifted(float* plane, int th, int tw, int p0, int count, float* dst, int width, nint panelStride)
    {
        (int jLo, int jHi, long shift) = ShiftedRange(th, tw, p0, count);
        var to = new PanelCursor(dst, width, panelStride, plane + (long)H * W);
        to.Zeros(jLo);
        to.Copy(plane + p0 + jLo + shift, jHi - jLo, 1);
        to.Zeros(count - jHi + (count + width - 1) / width * width - count);
        ZeroWrappedColumns(tw, p0, count, dst, width, panelStride);
    }

    /// <summary>
    /// Flat offset of the tap th rows down and tw columns right (kh*dH, kw*dW) in a shifted row, and the columns j in
    /// [jLo, jHi) of pixels [p0, p0 + count) that read inside the plane (0 &lt;= p0 + j + shift &lt; H*W). In 64 bits:
    /// (th - padTop) * W can exceed an int.
    /// </summary>
    private (int JLo, int JHi, long Shift) ShiftedRange(int th, int tw, int p0, int count)
    {
        long shift = (long)(th - PadTop) * W + (tw - PadLeft), planeLength = (long)H * W;
        long jLo = Math.Min(Math.Max(-shift - p0, 0), count), jHi = Math.Min(Math.Max(planeLength - shift - p0, jLo), count);
        return ((int)jLo, (int)jHi, shift);
    }

    /// <summary>
    /// In a shifted row (see FillRowShifted), output columns jj that read left of the input row (jj &lt; padLeft - tw) or
    /// right of it (jj &gt;= W + padLeft - tw) wrapped into the neighbouring input row: zero them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private unsafe void ZeroWrappedColumns(int tw, int p0, int count, float* dst, int width, nint panelStride)
    {
        long left = Math.Min(PadLeft - tw, W), right = Math.Max((long)W + PadLeft - tw, 0);
        if (left <= 0 && right >= W) return;
        // Panels are a power of two wide (NR), so column j sits at (j >> log2 width) * panelStride + (j & (width - 1)).
        System.Diagnostics.Debug.Assert(panelStride == 0 || System.Numerics.BitOperations.IsPow2(width), "panel width must be a " +
            "power of two");
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
        if (c1 < 0) c1 = GroupChannels;
        dcols += (long)c0 * KH * KW * count;
        for (int c = c0; c < c1; c++)
        for (int kh = 0; kh < KH; kh++)
        for (int kw = 0; kw < KW; kw++, dcols += count)
        {
            int th = kh * DilationH, tw = kw * DilationW;
            if (IsShiftedCopy)
            {
                // The inverse of FillRowShifted: drop the wrapped columns, then one contiguous add.
                (int jLo, int jHi, long shift) = ShiftedRange(th, tw, p0, count);
                ZeroWrappedColumns(tw, p0, count, dcols, count, 0);
                var plane = new Span<float>(dx + (long)c * H * W + p0 + jLo + shift, jHi - jLo);
                TensorPrimitives.Add(plane, new ReadOnlySpan<float>(dcols + jLo, jHi - jLo), plane);
                continue;
            }
            (int lo, int hi) = ValidColumns(tw);
            for (int p = p0, end = p0 + count; p < end;)
            {
                int i = p / OutW, jj = p % OutW, run = Math.Min(OutW - jj, end - p);
                int h = i * StrideH - PadTop + th;
                if ((uint)h < (uint)H)
                {
                    float* src = dcols + (p - p0);
                    float* dst = dx + ((long)c * H + h) * W - PadLeft + tw;
                    int a = Math.Max(jj, lo), b = Math.Min(jj + run, hi);
                    if (StrideW == 1 && b > a)
                    {
                        var row = new Span<float>(dst + a, b - a);
                        TensorPrimitives.Add(row, new ReadOnlySpan<float>(src + (a - jj), b - a), row);
                    }
                    else
                    {
                        for (int j = a; j < b; j++) dst[(long)j * StrideW] += src[j - jj];
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
