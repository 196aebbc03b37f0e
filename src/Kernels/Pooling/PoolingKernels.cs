using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kernels.Simd;

namespace Kernels.Pooling;

/// <summary>
/// Per-plane pooling kernels. The stride-2 fast paths vectorize along output columns: a stride-2 window row is the
/// even and odd elements of two consecutive input vectors (<see cref="IVectorOps{TVec}.Even"/>/<c>Odd</c>).
/// The last vector of a row overlaps the one before it instead of a scalar tail: recomputing an output writes the
/// same value again (outputs never alias inputs, and 2x2/2 windows do not overlap, so backward writes are
/// idempotent too). Scalar tails of up to 15 windows per row had made (8,64,56,56) max pool 2x2/2 backward 8x
/// slower than a copy. The scalar window code serves every other window shape and 3x3's last output.
/// </summary>
internal static unsafe class PoolingKernels
{
    /// <summary>First maximal element of a window (first NaN wins), as the reference defines: returns its offset.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ArgMax(float* x, int width, int h0, int w0, int ph, int pw)
    {
        int at = h0 * width + w0;
        float best = x[at];
        for (int i = 0; i < ph; i++)
        for (int j = 0; j < pw; j++)
        {
            if (float.IsNaN(best)) return at;
            int o = (h0 + i) * width + w0 + j;
            if (x[o] > best || float.IsNaN(x[o])) (best, at) = (x[o], o);
        }
        return at;
    }

    /// <summary>IEEE 754-2019 maximum of a window: NaN if any element is NaN, +0 over -0 (as the vector Max).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float WindowMax(float* x, int width, int h0, int w0, int ph, int pw)
    {
        float m = x[h0 * width + w0];
        for (int i = 0; i < ph; i++)
        for (int j = 0; j < pw; j++)
            m = Math.Max(m, x[(h0 + i) * width + w0 + j]);
        return m;
    }

    /// <summary>Window sum in row-major order (the reference's order, so results match bit for bit).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float WindowSum(float* x, int width, int h0, int w0, int ph, int pw)
    {
        float sum = 0f;
        for (int i = 0; i < ph; i++)
        for (int j = 0; j < pw; j++)
            sum += x[(h0 + i) * width + w0 + j];
        return sum;
    }

    public enum Window { General, Max2x2Stride2, Max3x3Stride2 }

    public static Window Classify(Pool2DParams p) => p switch
    {
        { PoolHeight: 2, PoolWidth: 2, Stride: 2 } => Window.Max2x2Stride2,
        { PoolHeight: 3, PoolWidth: 3, Stride: 2 } => Window.Max3x3Stride2,
        _ => Window.General,
    };

    // ---- max pool forward ----

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaxForwardPlane(float* x, int h, int w, float* y, int ho, int wo, Pool2DParams p)
    {
        Window kind = Classify(p);
        if (kind != Window.General)
        {
            if (Isa.Width >= SimdWidth.Vector512 && wo >= Vector512<float>.Count + 1) { MaxStride2<Vector512<float>, V512>(x, w, y, ho, wo, kind); return; }
            if (Isa.Width >= SimdWidth.Vector256 && wo >= Vector256<float>.Count + 1) { MaxStride2<Vector256<float>, V256>(x, w, y, ho, wo, kind); return; }
            if (Isa.Width >= SimdWidth.Vector128 && wo >= Vector128<float>.Count + 1) { MaxStride2<Vector128<float>, V128>(x, w, y, ho, wo, kind); return; }
        }
        for (int i = 0; i < ho; i++)
            for (int j = 0; j < wo; j++)
                y[i * wo + j] = WindowMax(x, w, i * p.Stride, j * p.Stride, p.PoolHeight, p.PoolWidth);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MaxStride2<TVec, TOps>(float* x, int w, float* y, int ho, int wo, Window kind)
        where TVec : struct where TOps : IVectorOps<TVec>
    {
        int lanes = TOps.Count, rows = kind == Window.Max3x3Stride2 ? 3 : 2;
        // 3x3 also reads the even elements two columns on, one past the 2x2 footprint: stop one output earlier.
        int vectorEnd = kind == Window.Max3x3Stride2 ? wo - 1 : wo;
        for (int i = 0; i < ho; i++, y += wo)
        {
            float* r0 = x + 2 * i * w;
            for (int j = 0; j < vectorEnd; j += lanes)
            {
                if (j > vectorEnd - lanes) j = vectorEnd - lanes; // the last vector overlaps the one before
                float* s = r0 + 2 * j;
                TVec lo = TOps.Load(in *s), hi = TOps.Load(in *(s + lanes));
                for (int r = 1; r < rows; r++)
                {
                    lo = TOps.Max(lo, TOps.Load(in *(s + r * w)));
                    hi = TOps.Max(hi, TOps.Load(in *(s + r * w + lanes)));
                }
                TVec m = TOps.Max(TOps.Even(lo, hi), TOps.Odd(lo, hi));
                if (kind == Window.Max3x3Stride2)
                {
                    TVec lo2 = TOps.Load(in *(s + 2)), hi2 = TOps.Load(in *(s + 2 + lanes));
                    for (int r = 1; r < rows; r++)
                    {
                        lo2 = TOps.Max(lo2, TOps.Load(in *(s + 2 + r * w)));
                        hi2 = TOps.Max(hi2, TOps.Load(in *(s + 2 + r * w + lanes)));
                    }
                    m = TOps.Max(m, TOps.Even(lo2, hi2));
                }
                TOps.Store(m, ref y[j]);
            }
            for (int j = vectorEnd; j < wo; j++) y[j] = WindowMax(x, w, 2 * i, 2 * j, rows, rows);
        }
    }

    // ---- max pool backward ----

    /// <summary>dx plane (h x w) from dout (ho x wo): each window's gradient to its first maximum; overwrites dx.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaxBackwardPlane(float* dout, float* x, int h, int w, float* dx, int ho, int wo, Pool2DParams p)
    {
        if (Classify(p) == Window.Max3x3Stride2 && Isa.Width >= SimdWidth.Vector128)
        {
            MaxBackward3x3(dout, x, h, w, dx, ho, wo);
            return;
        }
        if (Classify(p) == Window.Max2x2Stride2)
        {
            if (Isa.Width >= SimdWidth.Vector512 && wo >= Vector512<float>.Count) { MaxBackward2x2<Vector512<float>, V512>(dout, x, h, w, dx, ho, wo); return; }
            if (Isa.Width >= SimdWidth.Vector256 && wo >= Vector256<float>.Count) { MaxBackward2x2<Vector256<float>, V256>(dout, x, h, w, dx, ho, wo); return; }
            if (Isa.Width >= SimdWidth.Vector128 && wo >= Vector128<float>.Count) { MaxBackward2x2<Vector128<float>, V128>(dout, x, h, w, dx, ho, wo); return; }
        }
        new Span<float>(dx, h * w).Clear();
        for (int i = 0; i < ho; i++)
            for (int j = 0; j < wo; j++)
                dx[ArgMax(x, w, i * p.Stride, j * p.Stride, p.PoolHeight, p.PoolWidth)] += dout[i * wo + j];
    }

    /// <summary>
    /// Non-overlapping 2x2 windows: every covered dx element is written exactly once (the gradient or 0), so dx
    /// needs no clearing pass; only the odd last column and row that no window covers are zeroed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MaxBackward2x2<TVec, TOps>(float* dout, float* x, int h, int w, float* dx, int ho, int wo)
        where TVec : struct where TOps : IVectorOps<TVec>
    {
        int lanes = TOps.Count;
        for (int i = 0; i < ho; i++, dout += wo)
        {
            float* r0 = x + 2 * i * w, r1 = r0 + w, d0 = dx + 2 * i * w, d1 = d0 + w;
            for (int j = 0; j < wo; j += lanes)
            {
                if (j > wo - lanes) j = wo - lanes; // the last vector overlaps the one before
                float* s0 = r0 + 2 * j, s1 = r1 + 2 * j;
                TVec l0 = TOps.Load(in *s0), h0 = TOps.Load(in *(s0 + lanes)), l1 = TOps.Load(in *s1), h1 = TOps.Load(in *(s1 + lanes));
                TVec a = TOps.Even(l0, h0), b = TOps.Odd(l0, h0), c = TOps.Even(l1, h1), d = TOps.Odd(l1, h1);
                TVec m = TOps.Max(TOps.Max(a, b), TOps.Max(c, d));
                // Candidates are the maxima (or NaNs); the first in row-major order a, b, c, d takes the gradient.
                TVec ca = TOps.EqualsOrNaN(a, m), cb = TOps.EqualsOrNaN(b, m), cc = TOps.EqualsOrNaN(c, m);
                // +0 + dout, as the reference adds the gradient into a cleared dx: a -0 gradient lands as +0.
                TVec g = TOps.Add(TOps.Zero, TOps.Load(in dout[j]));
                TVec ga = TOps.And(ca, g), gb = TOps.AndNot(TOps.And(cb, g), ca);
                TVec taken = TOps.Or(ca, cb);
                TVec gc = TOps.AndNot(TOps.And(cc, g), taken);
                TVec gd = TOps.AndNot(g, TOps.Or(taken, cc));
                TOps.Store(TOps.ZipLow(ga, gb), ref d0[2 * j]);
                TOps.Store(TOps.ZipHigh(ga, gb), ref d0[2 * j + lanes]);
                TOps.Store(TOps.ZipLow(gc, gd), ref d1[2 * j]);
                TOps.Store(TOps.ZipHigh(gc, gd), ref d1[2 * j + lanes]);
            }
            if ((w & 1) != 0) d0[w - 1] = d1[w - 1] = 0f;
        }
        if ((h & 1) != 0) new Span<float>(dx + (h - 1) * w, w).Clear();
    }

    /// <summary>
    /// Overlapping 3x3 windows of stride 2: contributions add up, so dx is cleared first and the sums are made in the
    /// reference's order (windows row by row, left to right): within a block, each window's third column (which
    /// lands on the next window's first) is added before the next window's first two, so results match bit for bit.
    /// An overlapping last vector would add twice, so each row steps down through narrower widths instead
    /// (16, 8, 4 windows at a time) and ends with at most 4 scalar windows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MaxBackward3x3(float* dout, float* x, int h, int w, float* dx, int ho, int wo)
    {
        new Span<float>(dx, h * w).Clear();
        for (int i = 0; i < ho; i++, dout += wo)
        {
            int j = 0;
            if (Isa.Width >= SimdWidth.Vector512) MaxBackward3x3Row<Vector512<float>, V512>(dout, x, w, dx, wo, i, ref j);
            if (Isa.Width >= SimdWidth.Vector256) MaxBackward3x3Row<Vector256<float>, V256>(dout, x, w, dx, wo, i, ref j);
            MaxBackward3x3Row<Vector128<float>, V128>(dout, x, w, dx, wo, i, ref j);
            for (; j < wo; j++) dx[ArgMax(x, w, 2 * i, 2 * j, 3, 3)] += dout[j];
        }
    }

    /// <summary>Windows j, j+1, ... of output row i, one vector of them at a time, while the reads stay in the row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MaxBackward3x3Row<TVec, TOps>(float* dout, float* x, int w, float* dx, int wo, int i, ref int j)
        where TVec : unmanaged where TOps : IVectorOps<TVec>
    {
        int lanes = TOps.Count;
        TVec* a = stackalloc TVec[9];
        // Like the forward pass, the third column's even elements come from two columns on: stop one window early.
        for (; j + lanes <= wo - 1; j += lanes)
        {
            float* s = x + 2 * i * w + 2 * j;
            for (int r = 0; r < 3; r++)
            {
                float* row = s + r * w;
                TVec lo = TOps.Load(in *row), hi = TOps.Load(in *(row + lanes)), lo2 = TOps.Load(in *(row + 2)), hi2 = TOps.Load(in *(row + 2 + lanes));
                a[3 * r] = TOps.Even(lo, hi);
                a[3 * r + 1] = TOps.Odd(lo, hi);
                a[3 * r + 2] = TOps.Even(lo2, hi2);
            }
            TVec m = a[0];
            for (int q = 1; q < 9; q++) m = TOps.Max(m, a[q]);
            // The first candidate (maximum or NaN) in row-major window order takes the gradient.
            TVec g = TOps.Load(in dout[j]), taken = TOps.Zero;
            for (int q = 0; q < 9; q++)
            {
                TVec c = TOps.EqualsOrNaN(a[q], m);
                a[q] = TOps.AndNot(TOps.And(c, g), taken);
                taken = TOps.Or(taken, c);
            }
            for (int r = 0; r < 3; r++)
            {
                float* d = dx + (2 * i + r) * w + 2 * j;
                TOps.Store(TOps.Add(TOps.Load(in *(d + 2)), TOps.ZipLow(a[3 * r + 2], TOps.Zero)), ref *(d + 2));
                TOps.Store(TOps.Add(TOps.Load(in *(d + 2 + lanes)), TOps.ZipHigh(a[3 * r + 2], TOps.Zero)), ref *(d + 2 + lanes));
                TOps.Store(TOps.Add(TOps.Load(in *d), TOps.ZipLow(a[3 * r], a[3 * r + 1])), ref *d);
                TOps.Store(TOps.Add(TOps.Load(in *(d + lanes)), TOps.ZipHigh(a[3 * r], a[3 * r + 1])), ref *(d + lanes));
            }
        }
    }

    // ---- average pool ----

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AvgForwardPlane(float* x, int h, int w, float* y, int ho, int wo, Pool2DParams p)
    {
        if (Classify(p) == Window.Max2x2Stride2)
        {
            if (Isa.Width >= SimdWidth.Vector512 && wo >= Vector512<float>.Count) { AvgForward2x2<Vector512<float>, V512>(x, w, y, ho, wo); return; }
            if (Isa.Width >= SimdWidth.Vector256 && wo >= Vector256<float>.Count) { AvgForward2x2<Vector256<float>, V256>(x, w, y, ho, wo); return; }
            if (Isa.Width >= SimdWidth.Vector128 && wo >= Vector128<float>.Count) { AvgForward2x2<Vector128<float>, V128>(x, w, y, ho, wo); return; }
        }
        float count = p.PoolHeight * p.PoolWidth;
        for (int i = 0; i < ho; i++)
            for (int j = 0; j < wo; j++)
                y[i * wo + j] = WindowSum(x, w, i * p.Stride, j * p.Stride, p.PoolHeight, p.PoolWidth) / count;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AvgForward2x2<TVec, TOps>(float* x, int w, float* y, int ho, int wo)
        where TVec : struct where TOps : IVectorOps<TVec>
    {
        int lanes = TOps.Count;
        TVec four = TOps.Broadcast(4f);
        for (int i = 0; i < ho; i++, y += wo)
        {
            float* r0 = x + 2 * i * w, r1 = r0 + w;
            for (int j = 0; j < wo; j += lanes)
            {
                if (j > wo - lanes) j = wo - lanes; // the last vector overlaps the one before
                TVec l0 = TOps.Load(in r0[2 * j]), h0 = TOps.Load(in r0[2 * j + lanes]), l1 = TOps.Load(in r1[2 * j]), h1 = TOps.Load(in r1[2 * j + lanes]);
                // ((a + b) + c) + d: the reference's row-major order, so the result is bit-identical.
                // Starting from +0 as the reference does also makes a window of -0s sum to +0.
                TVec sum = TOps.Add(TOps.Add(TOps.Add(TOps.Add(TOps.Zero, TOps.Even(l0, h0)), TOps.Odd(l0, h0)), TOps.Even(l1, h1)), TOps.Odd(l1, h1));
                TOps.Store(TOps.Divide(sum, four), ref y[j]);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AvgBackwardPlane(float* dout, int h, int w, float* dx, int ho, int wo, Pool2DParams p)
    {
        if (Classify(p) == Window.Max2x2Stride2)
        {
            if (Isa.Width >= SimdWidth.Vector512 && wo >= Vector512<float>.Count) { AvgBackward2x2<Vector512<float>, V512>(dout, h, w, dx, ho, wo); return; }
            if (Isa.Width >= SimdWidth.Vector256 && wo >= Vector256<float>.Count) { AvgBackward2x2<Vector256<float>, V256>(dout, h, w, dx, ho, wo); return; }
            if (Isa.Width >= SimdWidth.Vector128 && wo >= Vector128<float>.Count) { AvgBackward2x2<Vector128<float>, V128>(dout, h, w, dx, ho, wo); return; }
        }
        new Span<float>(dx, h * w).Clear();
        float count = p.PoolHeight * p.PoolWidth;
        for (int i = 0; i < ho; i++)
        for (int j = 0; j < wo; j++)
        {
            float g = dout[i * wo + j] / count;
            for (int r = 0; r < p.PoolHeight; r++)
                for (int q = 0; q < p.PoolWidth; q++)
                    dx[(i * p.Stride + r) * w + j * p.Stride + q] += g;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AvgBackward2x2<TVec, TOps>(float* dout, int h, int w, float* dx, int ho, int wo)
        where TVec : struct where TOps : IVectorOps<TVec>
    {
        int lanes = TOps.Count;
        TVec four = TOps.Broadcast(4f);
        for (int i = 0; i < ho; i++, dout += wo)
        {
            float* d0 = dx + 2 * i * w, d1 = d0 + w;
            for (int j = 0; j < wo; j += lanes)
            {
                if (j > wo - lanes) j = wo - lanes; // the last vector overlaps the one before
                // +0 + dout / 4: the reference's sum into a cleared dx (a -0 gradient lands as +0).
                TVec g = TOps.Add(TOps.Zero, TOps.Divide(TOps.Load(in dout[j]), four));
                TVec lo = TOps.ZipLow(g, g), hi = TOps.ZipHigh(g, g);
                TOps.Store(lo, ref d0[2 * j]);
                TOps.Store(hi, ref d0[2 * j + lanes]);
                TOps.Store(lo, ref d1[2 * j]);
                TOps.Store(hi, ref d1[2 * j + lanes]);
            }
            if ((w & 1) != 0) d0[w - 1] = d1[w - 1] = 0f;
        }
        if ((h & 1) != 0) new Span<float>(dx + (h - 1) * w, w).Clear();
    }
}
