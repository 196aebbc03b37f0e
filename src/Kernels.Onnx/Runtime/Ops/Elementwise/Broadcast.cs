namespace Kernels.Onnx.Runtime.Ops.Elementwise;

/// <summary>A binary operation of the element-wise family: its three span forms and its int64 form for shapes.</summary>
internal interface IBinaryOperator
{
    /// <summary>y[i] = op(a[i], b[i]).</summary>
    static abstract void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y);

    /// <summary>y[i] = op(a[i], b).</summary>
    static abstract void Apply(ReadOnlySpan<float> a, float b, Span<float> y);

    /// <summary>y[i] = op(a, b[i]).</summary>
    static abstract void Apply(float a, ReadOnlySpan<float> b, Span<float> y);

    /// <summary>op on int64 values computed while planning (shapes); null where the op has no int64 form.</summary>
    static abstract long? Apply(long a, long b);
}

/// <summary>
/// numpy broadcasting of two operands of any rank up to <see cref="MaxRank"/>: dims aligned at the end, a 1 stretched
/// to the other's size (also to 0). Runs of axes with the same pattern (both advance, or one stays put) are merged, so
/// the innermost run goes to the operator's span form in one call: a (N, C, H, W) by (N, C, 1, 1) gate is one scalar
/// call per plane, a row by a (C) vector one vector call per row.
/// </summary>
internal readonly struct Broadcast
{
    public const int MaxRank = 6;

    // Merged axes, outermost first: size and per-operand stride (0 where that operand is broadcast).
    private readonly int[] _size, _strideA, _strideB;

    private Broadcast(int[] size, int[] strideA, int[] strideB) => (_size, _strideA, _strideB) = (size, strideA, strideB);

    /// <summary>The broadcast dims of <paramref name="a"/> and <paramref name="b"/>, or null when they do not broadcast.</summary>
    public static int[]? Dims(int[] a, int[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var y = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = Dim(a, i, rank), db = Dim(b, i, rank);
            if (da != db && da != 1 && db != 1) return null;
            y[i] = da == db ? da : da == 1 ? db : da;
        }
        return y;
    }

    private static int Dim(int[] d, int i, int rank) => i - (rank - d.Length) is int k && k >= 0 ? d[k] : 1;

    /// <summary>The loop over output <paramref name="y"/> that reads <paramref name="a"/> and <paramref name="b"/>
    /// (dims that broadcast to y).</summary>
    public static Broadcast Of(int[] a, int[] b, int[] y)
    {
        int rank = y.Length;
        var size = new List<int>();
        var sa = new List<int>();
        var sb = new List<int>();
        long strideA = 1, strideB = 1;
        (bool, bool)? pattern = null;
        for (int i = rank - 1; i >= 0; i--)
        {
            int da = Dim(a, i, rank), db = Dim(b, i, rank);
            if (y[i] == 1) continue; // size-1 axes move nothing
            (bool, bool) p = (da != 1, db != 1);
            if (p == pattern)
            {
                size[0] *= y[i];
            }
            else
            {
                size.Insert(0, y[i]);
                sa.Insert(0, p.Item1 ? (int)strideA : 0);
                sb.Insert(0, p.Item2 ? (int)strideB : 0);
                pattern = p;
            }
            if (p.Item1) strideA *= da;
            if (p.Item2) strideB *= db;
        }
        if (size.Count == 0) (size, sa, sb) = ([1], [0], [0]);
        return new Broadcast([.. size], [.. sa], [.. sb]);
    }

    public void Run<TOperator>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) where TOperator : IBinaryOperator
    {
        int last = _size.Length - 1, inner = _size[last];
        bool vectorA = _strideA[last] != 0, vectorB = _strideB[last] != 0;
        Span<int> index = stackalloc int[MaxRank];
        index.Clear();
        int outer = y.Length / Math.Max(inner, 1);
        int offsetA = 0, offsetB = 0;
        for (int o = 0; o < outer; o++)
        {
            Span<float> dst = y.Slice(o * inner, inner);
            if (vectorA && vectorB) TOperator.Apply(a.Slice(offsetA, inner), b.Slice(offsetB, inner), dst);
            else if (vectorA) TOperator.Apply(a.Slice(offsetA, inner), b[offsetB], dst);
            else if (vectorB) TOperator.Apply(a[offsetA], b.Slice(offsetB, inner), dst);
            else
            {
                TOperator.Apply(a.Slice(offsetA, 1), b[offsetB], dst[..1]);
                dst.Fill(dst[0]);
            }
            // The odometer over the outer axes: the innermost outer axis moves first.
            for (int axis = last - 1; axis >= 0; axis--)
            {
                offsetA += _strideA[axis];
                offsetB += _strideB[axis];
                if (++index[axis] < _size[axis]) break;
                offsetA -= _strideA[axis] * _size[axis];
                offsetB -= _strideB[axis] * _size[axis];
                index[axis] = 0;
            }
        }
    }

    /// <summary>The same loop on int64 values (shapes, while planning); null when the operator has no int64 form.</summary>
    public static long[]? Run<TOperator>(long[] a, int[] da, long[] b, int[] db, int[] y) where TOperator : IBinaryOperator
    {
        int rank = y.Length;
        var result = new long[Sizes.Elements(y)];
        for (int i = 0; i < result.Length; i++)
        {
            int rest = i, ia = 0, ib = 0, strideA = 1, strideB = 1;
            for (int axis = rank - 1; axis >= 0; axis--)
            {
                int at = rest % y[axis];
                rest /= y[axis];
                int sa = Dim(da, axis, rank), sb = Dim(db, axis, rank);
                ia += (sa == 1 ? 0 : at) * strideA;
                ib += (sb == 1 ? 0 : at) * strideB;
                strideA *= sa;
                strideB *= sb;
            }
            if (TOperator.Apply(a[ia], b[ib]) is not long v) return null;
            result[i] = v;
        }
        return result;
    }
}
