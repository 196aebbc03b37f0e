using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kernels.Simd;
using Kernels.Threading;

namespace Kernels.Elementwise;

/// <summary>
/// An element-wise operation of one input, written once for every width. A readonly struct whose fields are its
/// parameters (a slope, clip bounds; none for most): the JIT specialises the driver per struct, so they become
/// registers.
/// </summary>
internal interface IUnaryOp
{
    TVec Invoke<TVec, TOps>(TVec x) where TVec : struct where TOps : IVectorOps<TVec>;
}

/// <summary>An element-wise operation of two inputs, written once for every width (parameters as for <see cref="IUnaryOp"/>).</summary>
internal interface IBinaryOp
{
    TVec Invoke<TVec, TOps>(TVec a, TVec b) where TVec : struct where TOps : IVectorOps<TVec>;
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
    public static void Unary<TOp>(ReadOnlySpan<float> x, Span<float> y, int threads = 1, TOp op = default) where TOp : struct, IUnaryOp =>
        Binary(x, x, y, threads, new FirstOf<TOp>(op));

    private readonly struct FirstOf<TOp>(TOp op) : IBinaryOp where TOp : struct, IUnaryOp
    {
        public TVec Invoke<TVec, TOps>(TVec a, TVec b) where TVec : struct where TOps : IVectorOps<TVec> => op.Invoke<TVec, TOps>(a);
    }

    /// <summary>An activation's public forward: checks lengths, overlap and the degree, then <c>y = op(x)</c>.</summary>
    public static void Forward<TOp>(ReadOnlySpan<float> x, Span<float> y, int maxDegreeOfParallelism, TOp op = default) where TOp : struct, IUnaryOp
    {
        Reference.Relu.ValidateForward<float>(x, y);
        Unary(x, y, Parallelism.Resolve(maxDegreeOfParallelism), op);
    }

    /// <summary>An activation's public backward: checks lengths, overlaps and the degree, then <c>dx = op(x, dout)</c>.</summary>
    public static void Backward<TOp>(ReadOnlySpan<float> dout, ReadOnlySpan<float> x, Span<float> dx, int maxDegreeOfParallelism, TOp op = default)
        where TOp : struct, IBinaryOp
    {
        Reference.Relu.ValidateBackward<float>(dout, x, dx);
        Binary(x, dout, dx, Parallelism.Resolve(maxDegreeOfParallelism), op);
    }

    /// <summary>
    /// Outputs of at least this many bytes that overlap no input are written with non-temporal stores: they would
    /// not stay in cache anyway, and the stores skip reading each line before writing it. ReLU backward on 16M
    /// floats went from 1.5-3.4x to 1.0-1.6x the time of a 16M-float copy (it moves 1.5x the bytes). In place they
    /// made ReLU 3x slower (they evict the line just read), so only out-of-place outputs use them.
    /// </summary>
    private const int StreamingBytes = 4 << 20;

    /// <summary>
    /// Below this many elements per thread the op stays on fewer threads: 64K floats (256 KiB) take ~10 microseconds
    /// at memory speed, several times a fork-join.
    /// </summary>
    private const int MinElementsPerThread = 1 << 16;

    /// <summary>Threads split the elements into ranges of whole blocks of this many (a multiple of every vector width).</summary>
    private const int Block = 64;

    /// <summary>y[i] = op(a[i], b[i]) on at most <paramref name="threads"/> threads, each a contiguous range of whole blocks.</summary>
    public static unsafe void Binary<TOp>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, int threads = 1, TOp op = default)
        where TOp : struct, IBinaryOp
    {
        int n = a.Length;
        bool stream = (long)n * sizeof(float) >= StreamingBytes && !y.Overlaps(a) && !y.Overlaps(b);
        threads = Partition.Threads(threads, n, MinElementsPerThread);
        fixed (float* pa = a, pb = b, py = y)
        {
            if (threads <= 1)
            {
                Range(pa, pb, py, n, stream, op);
                return;
            }
            // Ranges of whole blocks: each part's overlapping last vector stays inside the part, so in-place calls
            // never read an element another thread has already written.
            var parts = new Parts<TOp>(pa, pb, py, n, stream, op);
            ForkJoin.Run(threads, ref parts);
        }
    }

    private readonly unsafe struct Parts<TOp>(float* a, float* b, float* y, int n, bool stream, TOp op) : ITeamBody where TOp : struct, IBinaryOp
    {
        public void Invoke(in Team team)
        {
            (int first, int end) = Partition.Range((n + Block - 1) / Block, team.Index, team.Size);
            int begin = first * Block, length = Math.Min(n, end * Block) - begin;
            if (length > 0) Range(a + begin, b + begin, y + begin, length, stream, op);
        }
    }

    /// <summary>One thread's range: the widest accelerated width its length fills, streaming when asked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Range<TOp>(float* a, float* b, float* y, int n, bool stream, TOp op) where TOp : struct, IBinaryOp
    {
        if (stream && Isa.Width >= SimdWidth.Vector512 && n >= Vector512<float>.Count) Streaming<Vector512<float>, V512, TOp>(a, b, y, n, op);
        else if (stream && Isa.Width >= SimdWidth.Vector256 && n >= Vector256<float>.Count) Streaming<Vector256<float>, V256, TOp>(a, b, y, n, op);
        else if (stream && Isa.Width >= SimdWidth.Vector128 && n >= Vector128<float>.Count) Streaming<Vector128<float>, V128, TOp>(a, b, y, n, op);
        else if (Isa.Width >= SimdWidth.Vector512 && n >= Vector512<float>.Count) Binary<Vector512<float>, V512, TOp>(ref *a, ref *b, ref *y, n, op);
        else if (Isa.Width >= SimdWidth.Vector256 && n >= Vector256<float>.Count) Binary<Vector256<float>, V256, TOp>(ref *a, ref *b, ref *y, n, op);
        else if (Isa.Width >= SimdWidth.Vector128 && n >= Vector128<float>.Count) Binary<Vector128<float>, V128, TOp>(ref *a, ref *b, ref *y, n, op);
        else if (n > 0) Binary<float, ScalarOps, TOp>(ref *a, ref *b, ref *y, n, op);
    }

    /// <remarks>Requires n &gt;= TOps.Count.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Binary<TVec, TOps, TOp>(ref float a, ref float b, ref float y, int n, TOp op)
        where TVec : struct where TOps : IVectorOps<TVec> where TOp : struct, IBinaryOp
    {
        int w = TOps.Count;
        TVec last = op.Invoke<TVec, TOps>(TOps.Load(in Unsafe.Add(ref a, n - w)), TOps.Load(in Unsafe.Add(ref b, n - w)));
        for (int i = 0; i <= n - w; i += w)
            TOps.Store(op.Invoke<TVec, TOps>(TOps.Load(in Unsafe.Add(ref a, i)), TOps.Load(in Unsafe.Add(ref b, i))), ref Unsafe.Add(ref y, i));
        TOps.Store(last, ref Unsafe.Add(ref y, n - w));
    }

    /// <summary>
    /// Binary with non-temporal stores: one plain vector at the start, aligned streaming stores from the first
    /// vector-aligned element of y, one plain overlapping vector at the end. Requires n &gt;= TOps.Count and y
    /// overlapping neither input (the overlaps are computed twice from unchanged inputs).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Streaming<TVec, TOps, TOp>(float* a, float* b, float* y, int n, TOp op)
        where TVec : struct where TOps : IVectorOps<TVec> where TOp : struct, IBinaryOp
    {
        int w = TOps.Count;
        TOps.Store(op.Invoke<TVec, TOps>(TOps.Load(in a[0]), TOps.Load(in b[0])), ref y[0]);
        int i = (int)((nuint)(-(nint)y) % (nuint)(w * sizeof(float)) / sizeof(float));
        for (; i <= n - w; i += w)
            TOps.StoreNonTemporal(op.Invoke<TVec, TOps>(TOps.Load(in a[i]), TOps.Load(in b[i])), y + i);
        TOps.Store(op.Invoke<TVec, TOps>(TOps.Load(in a[n - w]), TOps.Load(in b[n - w])), ref y[n - w]);
    }
}
