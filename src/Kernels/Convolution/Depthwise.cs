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

    /// <summary>Floats per padded column phase: ceil(PaddedW / StrideW).</summary>
    private static int PhaseLength(in ConvGeometry g) => (int)((g.PaddedW + (long)g.StrideW - 1) / g.StrideW);

    /// <summary>Floats per padded row: StrideW phases.</summary>
    private static long RowLength(in ConvGeometry g) => (long)g.StrideW * PhaseLength(g);

    /// <summary>Floats of one padded plane.</summary>
    private static long PlaneLength(in ConvGeometry g) => g.PaddedH * RowLength(g);

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
    /// One item of a pass: for Forward and InputGradient the (image, channel) plane <c>index</c>, for FilterGradient
    /// channel <c>index</c> over every image. a, c and output are the pass's operands: (x, w, y), (dout, w, dx) or
    /// (dout, x, dw). The one place that picks the vector width.
    /// </summary>
    private readonly struct Planes(ConvGeometry g, Pass pass, float* a, float* c, float* bias, float* output) : IIndexAction
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Invoke(int index)
        {
            switch (Isa.Width)
            {
                case SimdWidth.Vector512: Run<Vector512<float>, V512>(index); break;
                case SimdWidth.Vector256: Run<Vector256<float>, V256>(index); break;
                case SimdWidth.Vector128: Run<Vector128<float>, V128>(index); break;
                default: Run<float, ScalarOps>(index); break;
            }
        }

        private void Run<TVec, TOps>(int index) where TVec : unmanaged where TOps : IVectorOps<TVec>
        {
            float* plane = Scratch.Get(Scratch.Role.PaddedImage, PlaneLength(g));
            int m = g.GroupFilters, taps = g.KH * g.KW;
            int* offsets = TapOffsets(g);
            long inPlane = (long)g.H * g.W;
            switch (pass)
            {
                case Pass.Forward:
                {
                    int channel = index % g.Channels;
                    PadPlane(g, a + index * inPlane, plane);
                    float* yn = output + (long)index / g.Channels * g.OutputImage;
                    for (int f = channel * m; f < (channel + 1) * m; f++)
                        ForwardPlane<TVec, TOps>(g, plane, offsets, c + (long)f * taps, bias[f], yn + (long)f * g.Pixels);
                    return;
                }
                case Pass.InputGradient:
                {
                    int channel = index % g.Channels;
                    new Span<float>(plane, (int)PlaneLength(g)).Clear();
                    float* dn = a + (long)index / g.Channels * g.OutputImage;
                    for (int f = channel * m; f < (channel + 1) * m; f++)
                        ScatterPlane<TVec, TOps>(g, dn + (long)f * g.Pixels, c + (long)f * taps, plane, offsets);
                    CropPlane(g, plane, output + index * inPlane);
                    return;
                }
                default:
                {
                    int channel = index;
                    float* dw = output + (long)channel * m * taps;
                    new Span<float>(dw, m * taps).Clear();
                    for (int n = 0; n < g.Images; n++)
                    {
                        PadPlane(g, c + n * g.InputImage + channel * inPlane, plane);
                        for (int f = channel * m; f < (channel + 1) * m; f++)
                            FilterPlane<TVec, TOps>(g, a + n * g.OutputImage + (long)f * g.Pixels, plane, offsets, dw + (long)(f - channel * m) * taps);
                    }
                    return;
                }
            }
        }
    }

    /// <summary>Where padded column q of padded row h lives in a phase-split plane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long At(in ConvGeometry g, int h, int q) => h * RowLength(g) + (long)(q % g.StrideW) * PhaseLength(g) + q / g.StrideW;

    /// <summary>
    /// Per tap t = (kh, kw), where output (0, 0) reads it in the phase-split plane: output (i, j) then reads
    /// plane[i sH RowLength + offsets[t] + j]. Ints: a plane fits a scratch buffer (below 2^31 floats).
    /// </summary>
    private static int* TapOffsets(in ConvGeometry g)
    {
        int* offsets = (int*)Scratch.Get(Scratch.Role.Rows, g.KH * g.KW);
        for (int kh = 0, t = 0; kh < g.KH; kh++)
            for (int kw = 0; kw < g.KW; kw++, t++)
                offsets[t] = (int)At(g, kh * g.DilationH, kw * g.DilationW);
        return offsets;
    }

    /// <summary>The phase-split row that output row i reads for tap offset o (see <see cref="TapOffsets"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float* TapRow(in ConvGeometry g, float* plane, int i, int o) => plane + (long)i * g.StrideH * RowLength(g) + o;

    /// <summary>Writes the zero-padded, phase-split copy of one H x W plane x.</summary>
    private static void PadPlane(in ConvGeometry g, float* x, float* plane)
    {
        new Span<float>(plane, (int)PlaneLength(g)).Clear();
        for (int h = 0; h < g.H; h++)
        {
            float* src = x + (long)h * g.W;
            if (g.StrideW == 1)
            {
                ShortRuns.Copy(src, plane + At(g, h + g.PadTop, g.PadLeft), g.W);
                continue;
            }
            for (int v = 0; v < g.W; v++) plane[At(g, h + g.PadTop, v + g.PadLeft)] = src[v];
        }
    }

    /// <summary>The image part of a phase-split padded plane, written to dx (H x W, overwritten).</summary>
    private static void CropPlane(in ConvGeometry g, float* plane, float* dx)
    {
        for (int h = 0; h < g.H; h++)
        {
            float* dst = dx + (long)h * g.W;
            if (g.StrideW == 1)
            {
                ShortRuns.Copy(plane + At(g, h + g.PadTop, g.PadLeft), dst, g.W);
                continue;
            }
            for (int v = 0; v < g.W; v++) dst[v] = plane[At(g, h + g.PadTop, v + g.PadLeft)];
        }
    }

    /// <summary>
    /// One output plane: <c>y[i, j] = b + sum over taps w[kh, kw] * xpad[i sH + kh dH, j sW + kw dW]</c>, four vectors
    /// of the row at a time, then one, then a last vector overlapping the one before (recomputing an output writes the
    /// same value); rows narrower than a vector run on the scalar lanes, in the same order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardPlane<TVec, TOps>(in ConvGeometry g, float* plane, int* offsets, float* w, float bias, float* y)
        where TVec : unmanaged where TOps : IVectorOps<TVec>
    {
        if (g.OutW < TOps.Count && TOps.Count > 1)
        {
            ForwardPlane<float, ScalarOps>(g, plane, offsets, w, bias, y);
            return;
        }
        int lanes = TOps.Count, outW = g.OutW;
        for (int i = 0; i < g.OutH; i++, y += outW)
        {
            int j = 0;
            for (; j + 4 * lanes <= outW; j += 4 * lanes) ForwardVectors<TVec, TOps>(g, plane, offsets, w, bias, i, j, y, 4);
            for (; j + lanes <= outW; j += lanes) ForwardVectors<TVec, TOps>(g, plane, offsets, w, bias, i, j, y, 1);
            if (j < outW) ForwardVectors<TVec, TOps>(g, plane, offsets, w, bias, i, outW - lanes, y, 1);
        }
    }

    /// <summary>count (1 or 4) vectors of output row i from column j on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ForwardVectors<TVec, TOps>(in ConvGeometry g, float* plane, int* offsets, float* w, float bias, int i, int j, float* y, int count)
        where TVec : unmanaged where TOps : IVectorOps<TVec>
    {
        int lanes = TOps.Count;
        TVec a0 = TOps.Broadcast(bias), a1 = a0, a2 = a0, a3 = a0;
        float* origin = TapRow(g, plane, i, 0) + j;
        for (int t = 0, taps = g.KH * g.KW; t < taps; t++)
        {
            float* row = origin + offsets[t];
            TVec wt = TOps.Broadcast(w[t]);
            a0 = TOps.MultiplyAdd(wt, TOps.Load(in row[0]), a0);
            if (count == 1) continue;
            a1 = TOps.MultiplyAdd(wt, TOps.Load(in row[lanes]), a1);
            a2 = TOps.MultiplyAdd(wt, TOps.Load(in row[2 * lanes]), a2);
            a3 = TOps.MultiplyAdd(wt, TOps.Load(in row[3 * lanes]), a3);
        }
        TOps.Store(a0, ref y[j]);
        if (count == 1) return;
        TOps.Store(a1, ref y[j + lanes]);
        TOps.Store(a2, ref y[j + 2 * lanes]);
        TOps.Store(a3, ref y[j + 3 * lanes]);
    }

    /// <summary>
    /// dxpad[i sH + kh dH, j sW + kw dW] += w[kh, kw] * dout[i, j] for one filter: per output row and tap, one
    /// vector-wide multiply-add into the phase-split row, then scalar lanes for the row's tail (an overlapping vector
    /// would add twice). Output rows and taps in order, so each element receives its terms in a fixed order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScatterPlane<TVec, TOps>(in ConvGeometry g, float* dout, float* w, float* plane, int* offsets)
        where TVec : unmanaged where TOps : IVectorOps<TVec>
    {
        int lanes = TOps.Count, outW = g.OutW;
        for (int i = 0; i < g.OutH; i++, dout += outW)
        for (int t = 0, taps = g.KH * g.KW; t < taps; t++)
        {
            float* row = TapRow(g, plane, i, offsets[t]);
            TVec wt = TOps.Broadcast(w[t]);
            int j = 0;
            for (; j + lanes <= outW; j += lanes)
                TOps.Store(TOps.MultiplyAdd(wt, TOps.Load(in dout[j]), TOps.Load(in row[j])), ref row[j]);
            for (; j < outW; j++) row[j] = ScalarOps.MultiplyAdd(w[t], dout[j], row[j]);
        }
    }

    /// <summary>
    /// dw[kh, kw] += sum over (i, j) of dout[i, j] * xpad[i sH + kh dH, j sW + kw dW] for one filter and one image:
    /// per tap, vector partial sums over every row's vectors, scalar for the row tails, then the lanes added in order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FilterPlane<TVec, TOps>(in ConvGeometry g, float* dout, float* plane, int* offsets, float* dw)
        where TVec : unmanaged where TOps : IVectorOps<TVec>
    {
        int lanes = TOps.Count, outW = g.OutW;
        float* lane = stackalloc float[lanes];
        for (int t = 0, taps = g.KH * g.KW; t < taps; t++)
        {
            TVec acc = TOps.Zero;
            float tail = 0f;
            float* d = dout;
            for (int i = 0; i < g.OutH; i++, d += outW)
            {
                float* row = TapRow(g, plane, i, offsets[t]);
                int j = 0;
                for (; j + lanes <= outW; j += lanes) acc = TOps.MultiplyAdd(TOps.Load(in d[j]), TOps.Load(in row[j]), acc);
                for (; j < outW; j++) tail = ScalarOps.MultiplyAdd(d[j], row[j], tail);
            }
            TOps.Store(acc, ref lane[0]);
            float sum = tail;
            for (int l = 0; l < lanes; l++) sum += lane[l];
            dw[t] += sum;
        }
    }
}
