using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kernels.Simd;
using Kernels.Threading;

namespace Kernels.Convolution;

/// <summary>
/// Depthwise convolution (groups = C, filter f reads channel f / M only, M = F / C the channel multiplier: MobileNet,
/// EfficientNet, ConvNeXt), vectorized along the output row like the pooling plane kernels: each (image, channel)
/// plane is copied once, zero-padded, into per-thread scratch with its rows split into StrideW phases (padded column
/// q at phase q % sW, position q / sW), so output columns j.. of tap (kh, kw) are one contiguous vector load at
/// phase (kw dW) % sW, position j + (kw dW) / sW, for every stride and dilation. A GEMM would have M rows (1-3) and K
/// = HH WW (9-49): nearly all packing. The gradients are depthwise too: dx scatters <c>w * dout</c> into a padded
/// plane of the same layout (then crops it), dw is a dot product of dout with each tap's shifted rows, db is
/// im2col's. Every output, dx and dw element is reduced in an order fixed by the shapes: taps in (kh, kw) order, dw
/// over images in order, so results do not depend on the thread count.
/// </summary>
internal sealed unsafe class Depthwise : IConvAlgorithm
{
    public static readonly Depthwise Instance = new();

    private Depthwise() { }

    public Conv2DAlgorithm Kind => Conv2DAlgorithm.Depthwise;
    public Conv2DAlgorithm FilterForm => Conv2DAlgorithm.Depthwise;
    public string Requirement => "one input channel per filter (w of shape (F, 1, HH, WW): groups = C)";

    /// <summary>One channel per filter: groups = C (or a one-channel image).</summary>
    public bool Supports(Shape4 w, Conv2DParams p) => w.C == 1;

    /// <summary>The filters as given (F x HH*WW); the bias stays apart.</summary>
    public long FilterLength(in ConvGeometry g) => (long)g.Filters * g.KH * g.KW;

    public void PrepareFilters(in ConvGeometry g, float* w, float* b, float* dst, int degree) =>
        Buffer.MemoryCopy(w, dst, FilterLength(g) * sizeof(float), FilterLength(g) * sizeof(float));

    /// <summary>Floats of one phase-split padded plane (see <see cref="Layout"/>).</summary>
    private static long PlaneLength(in ConvGeometry g) => new Layout(g).PlaneLength;

    public void EnsureForwardScratchFits(in ConvGeometry g)
    {
        Scratch.EnsureFits(Scratch.Role.Weights, FilterLength(g));
        Scratch.EnsureFits(Scratch.Role.PaddedImage, PlaneLength(g));
        Scratch.EnsureFits(Scratch.Role.Rows, (long)g.KH * g.KW);
    }

    public void EnsureBackwardScratchFits(in ConvGeometry g)
    {
        Scratch.EnsureFits(Scratch.Role.PaddedImage, PlaneLength(g));
        Scratch.EnsureFits(Scratch.Role.Rows, (long)g.KH * g.KW);
    }

    /// <summary>Threads for a pass of about this many multiply-adds (the same cost model as im2col's).</summary>
    private static int Threads(in ConvGeometry g, int degree) =>
        Partition.Threads(degree, (long)g.Images * g.Filters * g.Pixels * g.KH * g.KW, Im2ColGemm.MinMultiplyAddsPerThread);

    /// <summary>y = conv(x, w) + b, (image, channel) planes split between threads.</summary>
    public void Forward(in ConvGeometry g, float* x, float* w, float* b, float* y, int degree) =>
        Parallelism.For(g.Images * g.Channels, Threads(g, degree), new Planes(g, Pass.Forward, x, w, b, y));

    /// <summary>db as im2col computes it; dx per (image, channel) plane; dw per channel over every image in order.</summary>
    public void Backward(in ConvGeometry g, float* dout, float* x, float* w, float* dx, float* dw, float* db, int degree)
    {
        Im2ColGemm.BiasGradient(dout, db, g.Images, g.Filters, g.Pixels, degree);
        int threads = Threads(g, degree);
        Parallelism.For(g.Images * g.Channels, threads, new Planes(g, Pass.InputGradient, dout, w, null, dx));
        Parallelism.For(g.Channels, threads, new Planes(g, Pass.FilterGradient, dout, x, null, dw));
    }

    private enum Pass { Forward, InputGradient, FilterGradient }

    /// <summary>
    /// The widest accelerated vector no wider than an output row: rows of 14 (MobileNet's late stages) run on 8-wide
    /// vectors under AVX-512 instead of scalar lanes. Depends on the shape only, never on the thread count.
    /// </summary>
    private static SimdWidth WidthFor(int outW) => Isa.Width switch
    {
        SimdWidth.Vector512 when outW >= 16 => SimdWidth.Vector512,
        SimdWidth.Vector512 or SimdWidth.Vector256 when outW >= 8 => SimdWidth.Vector256,
        SimdWidth.Vector512 or SimdWidth.Vector256 or SimdWidth.Vector128 when outW >= 4 => SimdWidth.Vector128,
        _ => SimdWidth.Scalar,
    };

    /// <summary>
    /// One item of a pass: for Forward and InputGradient the (image, channel) plane <c>index</c>, for FilterGradient
    /// channel <c>index</c> over every image. a, c and output are the pass's operands: (x, w, y), (dout, w, dx) or
    /// (dout, x, dw). The one place that picks the vector width.
    /// </summary>
    private readonly struct Planes(ConvGeometry g, Pass pass, float* a, float* c, float* bias, float* output) : IIndexAction
    {
        private readonly Layout _layout = new(g);

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Invoke(int index)
        {
            switch (WidthFor(g.OutW))
            {
                case SimdWidth.Vector512: Run<Vector512<float>, V512>(index); break;
                case SimdWidth.Vector256: Run<Vector256<float>, V256>(index); break;
                case SimdWidth.Vector128: Run<Vector128<float>, V128>(index); break;
                default: Run<float, ScalarOps>(index); break;
            }
        }

        private void Run<TVec, TOps>(int index) where TVec : unmanaged where TOps : IVectorOps<TVec>
        {
            Layout l = _layout;
            float* plane = Scratch.Get(Scratch.Role.PaddedImage, l.PlaneLength);
            int m = g.GroupFilters, taps = g.KH * g.KW;
            long inPlane = (long)g.H * g.W;
            int* offsets = TapOffsets(g, l);
            TVec tail = TailMask<TVec, TOps>(g.OutW);
            switch (pass)
            {
                case Pass.Forward:
                {
                    int channel = index % g.Channels;
                    l.Pad(a + index * inPlane, plane);
                    float* yn = output + (long)index / g.Channels * g.OutputImage;
                    for (int f = channel * m; f < (channel + 1) * m; f++)
                        ForwardPlane<TVec, TOps>(g, l, plane, offsets, c + (long)f * taps, bias[f], yn + (long)f * g.Pixels);
                    return;
                }
                case Pass.InputGradient:
                {
                    int channel = index % g.Channels;
                    new Span<float>(plane, (int)l.PlaneLength).Clear();
                    float* dn = a + (long)index / g.Channels * g.OutputImage;
                    for (int f = channel * m; f < (channel + 1) * m; f++)
                        ScatterPlane<TVec, TOps>(g, l, dn + (long)f * g.Pixels, c + (long)f * taps, plane, offsets, tail);
                    l.Crop(plane, output + index * inPlane);
                    return;
                }
                default:
                {
                    int channel = index;
                    float* dw = output + (long)channel * m * taps;
                    new Span<float>(dw, m * taps).Clear();
                    for (int n = 0; n < g.Images; n++)
                    {
                        l.Pad(c + n * g.InputImage + channel * inPlane, plane);
                        for (int f = channel * m; f < (channel + 1) * m; f++)
                        {
                            float* dn = a + n * g.OutputImage + (long)f * g.Pixels;
                            FilterPlane<TVec, TOps>(g, l, dn, plane, offsets, tail, dw + (long)(f - channel * m) * taps);
                        }
                    }
                    return;
                }
            }
        }
    }

    /// <summary>
    /// The phase-split padded plane: PaddedH rows of StrideW phases of <see cref="Phase"/> floats; padded column q of
    /// a row is at phase q % sW, position q / sW.
    /// </summary>
    private readonly struct Layout(ConvGeometry g)
    {
        /// <summary>Floats per phase: ceil(PaddedW / StrideW).</summary>
        public readonly int Phase = (int)((g.PaddedW + (long)g.StrideW - 1) / g.StrideW);

        /// <summary>Floats per padded row: StrideW phases.</summary>
        public long Row => (long)g.StrideW * Phase;

        /// <summary>Floats of one plane.</summary>
        public long PlaneLength => g.PaddedH * Row;

        /// <summary>Floats from one output row's first read to the next: StrideH padded rows.</summary>
        public long OutputRowStep => g.StrideH * Row;

        /// <summary>Where padded column q of padded row h lives.</summary>
        public long At(int h, int q) => h * Row + (long)(q % g.StrideW) * Phase + q / g.StrideW;

        /// <summary>Writes the zero-padded, phase-split copy of one H x W plane x.</summary>
        public void Pad(float* x, float* plane)
        {
            // Zero only what the image does not cover: the padding rows, and with stride 1 each row's two margins
            // (clearing the whole plane first cost as much as the 3x3 multiply-adds on 112 x 112 planes).
            new Span<float>(plane, (int)(g.PadTop * Row)).Clear();
            new Span<float>(plane + (g.PadTop + g.H) * Row, (int)(g.PadBottom * Row)).Clear();
            for (int h = 0; h < g.H; h++)
            {
                float* src = x + (long)h * g.W, row = plane + (h + g.PadTop) * Row;
                if (g.StrideW == 1)
                {
                    ShortRuns.Clear(row, g.PadLeft);
                    ShortRuns.Copy(src, row + g.PadLeft, g.W);
                    ShortRuns.Clear(row + g.PadLeft + g.W, (int)(Row - g.PadLeft - g.W));
                    continue;
                }
                new Span<float>(row, (int)Row).Clear();
                // Phase r holds padded columns r, r + sW, ...: image columns v = q - padLeft.
                for (int r = 0; r < g.StrideW; r++)
                {
                    float* dst = row + (long)r * Phase;
                    int t = FirstInside(r);
                    for (int v = t * g.StrideW + r - g.PadLeft; v < g.W; v += g.StrideW, t++) dst[t] = src[v];
                }
            }
        }

        /// <summary>The image part of a phase-split padded plane, written to dx (H x W, overwritten).</summary>
        public void Crop(float* plane, float* dx)
        {
            for (int h = 0; h < g.H; h++)
            {
                float* dst = dx + (long)h * g.W, row = plane + (h + g.PadTop) * Row;
                if (g.StrideW == 1)
                {
                    ShortRuns.Copy(row + g.PadLeft, dst, g.W);
                    continue;
                }
                for (int r = 0; r < g.StrideW; r++)
                {
                    float* src = row + (long)r * Phase;
                    int t = FirstInside(r);
                    for (int v = t * g.StrideW + r - g.PadLeft; v < g.W; v += g.StrideW, t++) dst[v] = src[t];
                }
            }
        }

        /// <summary>The first position t of phase r whose padded column t sW + r is inside the image (>= padLeft).</summary>
        private int FirstInside(int r) => r >= g.PadLeft ? 0 : (g.PadLeft - r + g.StrideW - 1) / g.StrideW;
    }

    /// <summary>
    /// Per tap t = (kh, kw), where output (0, 0) reads it in the phase-split plane: output (i, j) then reads
    /// plane[i * OutputRowStep + offsets[t] + j]. Ints: a plane fits a scratch buffer (below 2^31 floats).
    /// </summary>
    private static int* TapOffsets(in ConvGeometry g, in Layout l)
    {
        int* offsets = (int*)Scratch.Get(Scratch.Role.Rows, g.KH * g.KW);
        for (int kh = 0, t = 0; kh < g.KH; kh++)
            for (int kw = 0; kw < g.KW; kw++, t++)
                offsets[t] = (int)l.At(kh * g.DilationH, kw * g.DilationW);
        return offsets;
    }

    /// <summary>
    /// For a row's last vector, which overlaps the one before it (columns outW - lanes ..): all ones in the lanes past
    /// the last whole vector, zero in the lanes already counted, so sums add each column once.
    /// </summary>
    private static TVec TailMask<TVec, TOps>(int outW) where TVec : unmanaged where TOps : IVectorOps<TVec>
    {
        int lanes = TOps.Count, fresh = outW % lanes;
        float* bits = stackalloc float[lanes];
        for (int l = 0; l < lanes; l++) bits[l] = l >= lanes - fresh ? BitConverter.Int32BitsToSingle(-1) : 0f;
        return TOps.Load(in bits[0]);
    }

    /// <summary>a in the mask's lanes, b elsewhere.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec Select<TVec, TOps>(TVec mask, TVec a, TVec b) where TVec : unmanaged where TOps : IVectorOps<TVec> =>
        TOps.Or(TOps.And(a, mask), TOps.AndNot(b, mask));

    /// <summary>
    /// One output plane: <c>y[i, j] = b + sum over taps w[kh, kw] * xpad[i sH + kh dH, j sW + kw dW]</c>, four vectors
    /// of the row at a time, then one, then a last vector overlapping the one before (recomputing an output writes the
    /// same value). Rows are at least a vector wide (<see cref="WidthFor"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardPlane<TVec, TOps>(in ConvGeometry g, in Layout l, float* plane, int* offsets, float* w, float bias, float* y)
        where TVec : unmanaged where TOps : IVectorOps<TVec>
    {
        int lanes = TOps.Count, outW = g.OutW, taps = g.KH * g.KW;
        long step = l.OutputRowStep;
        TVec b = TOps.Broadcast(bias);
        for (int i = 0; i < g.OutH; i++, y += outW)
        {
            float* origin = plane + i * step;
            int j = 0;
            for (; j + 4 * lanes <= outW; j += 4 * lanes)
            {
                TVec a0 = b, a1 = b, a2 = b, a3 = b;
                for (int t = 0; t < taps; t++)
                {
                    float* row = origin + offsets[t] + j;
                    TVec wt = TOps.Broadcast(w[t]);
                    a0 = TOps.MultiplyAdd(wt, TOps.Load(in row[0]), a0);
                    a1 = TOps.MultiplyAdd(wt, TOps.Load(in row[lanes]), a1);
                    a2 = TOps.MultiplyAdd(wt, TOps.Load(in row[2 * lanes]), a2);
                    a3 = TOps.MultiplyAdd(wt, TOps.Load(in row[3 * lanes]), a3);
                }
                TOps.Store(a0, ref y[j]);
                TOps.Store(a1, ref y[j + lanes]);
                TOps.Store(a2, ref y[j + 2 * lanes]);
                TOps.Store(a3, ref y[j + 3 * lanes]);
            }
            for (; j < outW; j += lanes)
            {
                int at = Math.Min(j, outW - lanes);
                TVec a0 = b;
                for (int t = 0; t < taps; t++) a0 = TOps.MultiplyAdd(TOps.Broadcast(w[t]), TOps.Load(in origin[offsets[t] + at]), a0);
                TOps.Store(a0, ref y[at]);
            }
        }
    }

    /// <summary>
    /// dxpad[i sH + kh dH, j sW + kw dW] += w[kh, kw] * dout[i, j] for one filter: per output row and tap, vector-wide
    /// multiply-adds into the phase-split row; the last, overlapping vector keeps the columns already added (tail
    /// mask). Output rows and taps in order, so each element receives its terms in a fixed order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScatterPlane<TVec, TOps>(in ConvGeometry g, in Layout l, float* dout, float* w, float* plane, int* offsets, TVec tail)
        where TVec : unmanaged where TOps : IVectorOps<TVec>
    {
        int lanes = TOps.Count, outW = g.OutW, taps = g.KH * g.KW, whole = outW - outW % lanes;
        long step = l.OutputRowStep;
        for (int i = 0; i < g.OutH; i++, dout += outW)
        for (int t = 0; t < taps; t++)
        {
            float* row = plane + i * step + offsets[t];
            TVec wt = TOps.Broadcast(w[t]);
            for (int j = 0; j < whole; j += lanes)
                TOps.Store(TOps.MultiplyAdd(wt, TOps.Load(in dout[j]), TOps.Load(in row[j])), ref row[j]);
            if (whole == outW) continue;
            int at = outW - lanes;
            TVec old = TOps.Load(in row[at]);
            TOps.Store(Select<TVec, TOps>(tail, TOps.MultiplyAdd(wt, TOps.Load(in dout[at]), old), old), ref row[at]);
        }
    }

    /// <summary>
    /// dw[kh, kw] += sum over (i, j) of dout[i, j] * xpad[i sH + kh dH, j sW + kw dW] for one filter and one image:
    /// per tap, vector partial sums over every row (the last, overlapping vector of a row adds only its new columns),
    /// then the lanes added in order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FilterPlane<TVec, TOps>(in ConvGeometry g, in Layout l, float* dout, float* plane, int* offsets, TVec tail, float* dw)
        where TVec : unmanaged where TOps : IVectorOps<TVec>
    {
        int lanes = TOps.Count, outW = g.OutW, taps = g.KH * g.KW, whole = outW - outW % lanes;
        long step = l.OutputRowStep;
        float* lane = stackalloc float[lanes];
        for (int t = 0; t < taps; t++)
        {
            TVec acc = TOps.Zero;
            float* d = dout;
            for (int i = 0; i < g.OutH; i++, d += outW)
            {
                float* row = plane + i * step + offsets[t];
                for (int j = 0; j < whole; j += lanes) acc = TOps.MultiplyAdd(TOps.Load(in d[j]), TOps.Load(in row[j]), acc);
                if (whole != outW)
                {
                    int at = outW - lanes;
                    acc = Select<TVec, TOps>(tail, TOps.MultiplyAdd(TOps.Load(in d[at]), TOps.Load(in row[at]), acc), acc);
                }
            }
            TOps.Store(acc, ref lane[0]);
            float sum = 0f;
            for (int q = 0; q < lanes; q++) sum += lane[q];
            dw[t] += sum;
        }
    }
}
