using System.Runtime.CompilerServices;

namespace Kernels.Convolution;

/// <summary>
/// The geometry of one image's convolution, and the im2col / col2im transforms over a range of output pixels.
/// cols is K x count row-major, K = C*HH*WW (row k = (c, kh, kw)), column j = output pixel p0 + j
/// (pixel p = i*Wout + jj). <c>cols[k, j] = x[c, i*s - pad + kh, jj*s - pad + kw]</c>, 0 outside the image.
/// </summary>
internal readonly struct ConvGeometry(Shape4 x, Shape4 w, Conv2DParams p, Shape4 y)
{
    public readonly int C = x.C, H = x.H, W = x.W, KH = w.H, KW = w.W, Stride = p.Stride, Pad = p.Pad, OutH = y.H, OutW = y.W;

    /// <summary>Rows of cols: C * HH * WW.</summary>
    public int K => C * KH * KW;
    /// <summary>Output pixels per image: Hout * Wout.</summary>
    public int Pixels => OutH * OutW;
    /// <summary>A 1x1, stride-1, unpadded convolution reads x itself as cols (C x H*W).</summary>
    public bool IsPointwise => KH == 1 && KW == 1 && Stride == 1 && Pad == 0;

    /// <summary>
    /// Output pixels per chunk, so that one chunk of cols (K x chunk floats) is about 1 MiB: it stays in L2 between
    /// im2col writing it and GEMM packing it, and bounds scratch to max(1 MiB, 128 * K bytes) per worker.
    /// A multiple of 32 (the widest GEMM panel) unless it covers the whole image. Never depends on the thread count.
    /// </summary>
    public int ChunkPixels => Pixels <= Math.Max(32, (1 << 18) / K) ? Pixels : Math.Max(32, (1 << 18) / K / 32 * 32);

    /// <summary>Valid output columns [lo, hi) for filter column kw: those reading 0 &lt;= jj*s - pad + kw &lt; W.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private (int Lo, int Hi) ValidColumns(int kw)
    {
        int lo = Math.Max(0, CeilDiv(Pad - kw, Stride));
        int hi = Math.Min(OutW, CeilDiv(W + Pad - kw, Stride));
        return (lo, Math.Max(lo, hi));
    }

    private static int CeilDiv(int a, int b) => a <= 0 ? -(-a / b) : (a + b - 1) / b;

    /// <summary>Fills cols (K x count, row stride count) from image x (C x H x W) for output pixels [p0, p0 + count).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe void Im2Col(float* x, int p0, int count, float* cols)
    {
        for (int c = 0; c < C; c++)
        for (int kh = 0; kh < KH; kh++)
        for (int kw = 0; kw < KW; kw++, cols += count)
        {
            (int lo, int hi) = ValidColumns(kw);
            for (int p = p0, end = p0 + count; p < end;)
            {
                int i = p / OutW, jj = p % OutW, run = Math.Min(OutW - jj, end - p);
                float* dst = cols + (p - p0);
                int h = i * Stride - Pad + kh;
                if ((uint)h >= (uint)H)
                {
                    new Span<float>(dst, run).Clear();
                }
                else
                {
                    // Columns [a, b) read inside the row; the rest are padding zeros.
                    int a = Math.Clamp(lo, jj, jj + run), b = Math.Clamp(hi, jj, jj + run);
                    float* src = x + ((long)c * H + h) * W - Pad + kw;
                    new Span<float>(dst, a - jj).Clear();
                    if (Stride == 1)
                        new ReadOnlySpan<float>(src + a, b - a).CopyTo(new Span<float>(dst + (a - jj), b - a));
                    else
                        for (int j = a; j < b; j++) dst[j - jj] = src[j * Stride];
                    new Span<float>(dst + (b - jj), jj + run - b).Clear();
                }
                p += run;
            }
        }
    }

    /// <summary>Adds dcols (K x count) back into image dx (C x H x W): the transpose of <see cref="Im2Col"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe void Col2ImAdd(float* dcols, int p0, int count, float* dx)
    {
        for (int c = 0; c < C; c++)
        for (int kh = 0; kh < KH; kh++)
        for (int kw = 0; kw < KW; kw++, dcols += count)
        {
            (int lo, int hi) = ValidColumns(kw);
            for (int p = p0, end = p0 + count; p < end;)
            {
                int i = p / OutW, jj = p % OutW, run = Math.Min(OutW - jj, end - p);
                int h = i * Stride - Pad + kh;
                if ((uint)h < (uint)H)
                {
                    float* src = dcols + (p - p0);
                    float* dst = dx + ((long)c * H + h) * W - Pad + kw;
                    for (int j = Math.Max(jj, lo), jEnd = Math.Min(jj + run, hi); j < jEnd; j++)
                        dst[j * Stride] += src[j - jj];
                }
                p += run;
            }
        }
    }
}
