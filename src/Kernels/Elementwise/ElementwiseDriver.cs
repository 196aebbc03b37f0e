using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Kernels.Simd;

namespace Kernels.Elementwise;

/// <summary>An element-wise operation of one input, written once for every width.</summary>
internal interface IUnaryOp
{
    static abstract TVec Invoke<TVec, TOps>(TVec x) where TVec : struct where TOps : IVectorOps<TVec>;
}

/// <summary>An element-wise operation of two inputs, written once for every width.</summary>
internal interface IBinaryOp
{
    static abstract TVec Invoke<TVec, TOps>(TVec a, TVec b) where TVec : struct where TOps : IVectorOps<TVec>;
}

/// <summary>
/// The one loop driver of the element-wise family. It alone picks the width: the widest accelerated one that the
/// length fills at least once (so short spans fall to narrower vectors rather than scalar loops). The tail is one
/// overlapping vector ending at the last element, computed from the inputs BEFORE the main loop runs, so in-place
/// calls (output = input) stay correct; nothing is read or written outside the spans.
/// </summary>
internal static class ElementwiseDriver
{
    /// <summary>y = op(x) through the binary path (the second operand is x again and unused), so unary ops stream too.</summary>
    public static void Unary<TOp>(ReadOnlySpan<float> x, Span<float> y) where TOp : IUnaryOp => Binary<FirstOf<TOp>>(x, x, y);

    private readonly struct FirstOf<TOp> : IBinaryOp where TOp : IUnaryOp
    {
        public static TVec Invoke<TVec, TOps>(TVec a, TVec b) where TVec : struct where TOps : IVectorOps<TVec> => TOp.Invoke<TVec, TOps>(a);
    }

    /// <summary>
    /// Outputs of at least this many bytes that overlap no input are written with non-temporal stores: they would
    /// not stay in cache anyway, and the stores skip reading each line before writing it. ReLU backward on 16M
    /// floats went from 1.5-3.4x to 1.0-1.6x the time of a 16M-float copy (it moves 1.5x the bytes). In place they
    /// made ReLU 3x slower (they evict the line just read), so only out-of-place outputs use them.
    /// </summary>
    private const int StreamingBytes = 4 << 20;

    public static unsafe void Binary<TOp>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) where TOp : IBinaryOp
    {
        int n = a.Length;
        ref float @as = ref MemoryMarshal.GetReference(a);
        ref float bs = ref MemoryMarshal.GetReference(b);
        ref float ys = ref MemoryMarshal.GetReference(y);
        if ((long)n * sizeof(float) >= StreamingBytes && !y.Overlaps(a) && !y.Overlaps(b))
        {
            fixed (float* pa = a, pb = b, py = y)
            {
                if (Isa.Width >= SimdWidth.Vector512) Streaming<Vector512<float>, V512, TOp>(pa, pb, py, n);
                else if (Isa.Width >= SimdWidth.Vector256) Streaming<Vector256<float>, V256, TOp>(pa, pb, py, n);
                else if (Isa.Width >= SimdWidth.Vector128) Streaming<Vector128<float>, V128, TOp>(pa, pb, py, n);
                else Binary<float, ScalarOps, TOp>(ref @as, ref bs, ref ys, n);
            }
            return;
        }
        if (Isa.Width >= SimdWidth.Vector512 && n >= Vector512<float>.Count) Binary<Vector512<float>, V512, TOp>(ref @as, ref bs, ref ys, n);
        else if (Isa.Width >= SimdWidth.Vector256 && n >= Vector256<float>.Count) Binary<Vector256<float>, V256, TOp>(ref @as, ref bs, ref ys, n);
        else if (Isa.Width >= SimdWidth.Vector128 && n >= Vector128<float>.Count) Binary<Vector128<float>, V128, TOp>(ref @as, ref bs, ref ys, n);
        else if (n > 0) Binary<float, ScalarOps, TOp>(ref @as, ref bs, ref ys, n);
    }

    /// <remarks>Requires n &gt;= TOps.Count.</remarks>
    private static void Binary<TVec, TOps, TOp>(ref float a, ref float b, ref float y, int n)
        where TVec : struct where TOps : IVectorOps<TVec> where TOp : IBinaryOp
    {
        int w = TOps.Count;
        TVec last = TOp.Invoke<TVec, TOps>(TOps.Load(in Unsafe.Add(ref a, n - w)), TOps.Load(in Unsafe.Add(ref b, n - w)));
        for (int i = 0; i <= n - w; i += w)
            TOps.Store(TOp.Invoke<TVec, TOps>(TOps.Load(in Unsafe.Add(ref a, i)), TOps.Load(in Unsafe.Add(ref b, i))), ref Unsafe.Add(ref y, i));
        TOps.Store(last, ref Unsafe.Add(ref y, n - w));
    }

    /// <summary>
    /// Binary with non-temporal stores: one plain vector at the start, aligned streaming stores from the first
    /// vector-aligned element of y, one plain overlapping vector at the end. Requires n &gt;= TOps.Count and y
    /// overlapping neither input (the overlaps are computed twice from unchanged inputs).
    /// </summary>
    private static unsafe void Streaming<TVec, TOps, TOp>(float* a, float* b, float* y, int n)
        where TVec : struct where TOps : IVectorOps<TVec> where TOp : IBinaryOp
    {
        int w = TOps.Count;
        TOps.Store(TOp.Invoke<TVec, TOps>(TOps.Load(in a[0]), TOps.Load(in b[0])), ref y[0]);
        int i = (int)((nuint)(-(nint)y) % (nuint)(w * sizeof(float)) / sizeof(float));
        for (; i <= n - w; i += w)
            TOps.StoreNonTemporal(TOp.Invoke<TVec, TOps>(TOps.Load(in a[i]), TOps.Load(in b[i])), y + i);
        TOps.Store(TOp.Invoke<TVec, TOps>(TOps.Load(in a[n - w]), TOps.Load(in b[n - w])), ref y[n - w]);
    }
}
