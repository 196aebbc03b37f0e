namespace Kernels.Onnx.Runtime.Ops;

/// <summary>
/// A dense copy of a strided view: <c>dst</c> in row-major order over <c>dims</c> reads
/// <c>src[offset + sum(i[k] * strides[k])]</c>, strides 0 where the view broadcasts and negative where it steps back.
/// Slice, Transpose, Expand and Split are this copy with their own strides. Made while planning: dims of 1 are dropped
/// and neighbours that walk the source as one are merged, so at run time the innermost run is a block copy (source
/// stride 1), a fill (stride 0), a tiled transpose (the source's unit stride is on an outer dim) or, only when no
/// dim has unit stride (a negative or larger step), one element at a time.
/// </summary>
internal sealed class StridedCopy
{
    /// <summary>Tiles of 16 x 16 elements: 16 source rows and 16 destination rows of 64 bytes each stay in L1.</summary>
    private const int Tile = 16;

    private readonly int[] _dims;
    private readonly long[] _strides, _dstStrides;
    private readonly int[] _outer;   // dims walked one index at a time, outermost first (not the last, nor the tile's rows)
    private readonly int _rows = -1; // the dim of source stride 1 that a tiled transpose walks with the last, or -1
    private readonly long _offset, _count;

    public StridedCopy(ReadOnlySpan<int> dims, ReadOnlySpan<long> strides, long offset)
    {
        var d = new List<int>();
        var s = new List<long>();
        _count = Sizes.Elements(dims);
        for (int k = 0; k < dims.Length && _count > 0; k++)
        {
            if (dims[k] == 1) continue;
            // The outer dim steps over exactly the inner one: the two are one dim.
            if (d.Count > 0 && s[^1] == strides[k] * dims[k])
            {
                (d[^1], s[^1]) = (d[^1] * dims[k], strides[k]);
                continue;
            }
            d.Add(dims[k]);
            s.Add(strides[k]);
        }
        (_dims, _strides, _offset) = ([.. d], [.. s], offset);
        _dstStrides = Op.Strides(_dims);
        int last = _dims.Length - 1;
        if (last > 0 && _strides[last] is not (0 or 1)) _rows = Array.LastIndexOf(_strides, 1L, last - 1);
        _outer = [.. Enumerable.Range(0, Math.Max(last, 0)).Where(k => k != _rows)];
    }

    /// <summary>How the innermost run is copied, for profiles.</summary>
    public string Detail => _count == 0 || _dims.Length == 0 ? "" : _rows >= 0 ? "16x16 tiles"
        : _strides[^1] switch { 1 => $"rows of {_dims[^1]}", 0 => $"fills of {_dims[^1]}", _ => "elements" };

    /// <summary>Copies the view of <paramref name="src"/> into <paramref name="dst"/> (its planned element count).</summary>
    public void Run<T>(ReadOnlySpan<T> src, Span<T> dst)
    {
        if (_count == 0) return;
        if (_dims.Length == 0)
        {
            dst[0] = src[(int)_offset];
            return;
        }
        Walk(src, dst, 0, _offset, 0);
    }

    private void Walk<T>(ReadOnlySpan<T> src, Span<T> dst, int level, long s, long d)
    {
        if (level < _outer.Length)
        {
            int k = _outer[level];
            for (int i = 0; i < _dims[k]; i++) Walk(src, dst, level + 1, s + i * _strides[k], d + i * _dstStrides[k]);
            return;
        }
        int last = _dims.Length - 1, n = _dims[last];
        long step = _strides[last];
        if (_rows >= 0)
        {
            Transpose(src, dst, s, d, _dims[_rows], _dstStrides[_rows], n, step);
            return;
        }
        if (step == 1) src.Slice((int)s, n).CopyTo(dst.Slice((int)d, n));
        else if (step == 0) dst.Slice((int)d, n).Fill(src[(int)s]);
        else
            for (int j = 0; j < n; j++) dst[(int)d + j] = src[(int)(s + j * step)];
    }

    /// <summary>dst[d + i * rowStride + j] = src[s + i + j * step] for i below rows and j below n, tile by tile.</summary>
    private static void Transpose<T>(ReadOnlySpan<T> src, Span<T> dst, long s, long d, int rows, long rowStride, int n, long step)
    {
        for (int i0 = 0; i0 < rows; i0 += Tile)
            for (int j0 = 0; j0 < n; j0 += Tile)
            {
                int i1 = Math.Min(i0 + Tile, rows), j1 = Math.Min(j0 + Tile, n);
                for (int i = i0; i < i1; i++)
                {
                    Span<T> row = dst.Slice((int)(d + i * rowStride), n);
                    for (int j = j0; j < j1; j++) row[j] = src[(int)(s + i + j * step)];
                }
            }
    }
}

/// <summary>An op whose output is a strided view of input 0 copied out (Slice, Transpose, Expand).</summary>
internal abstract class CopyOp(string node, int[] inputs, int[] outputs) : Op(node, inputs, outputs)
{
    /// <summary>
    /// Defines the output (dims <paramref name="y"/>) as the view <paramref name="strides"/> from <paramref name="offset"/>
    /// of input 0: copied now for an int64 value known while planning, else by the returned step.
    /// </summary>
    protected Step Copy(PlanContext p, int[] y, long[] strides, long offset, string name)
    {
        if (IsKnown(p, 0))
        {
            long[] data = DefineKnown(p, Output, y);
            new StridedCopy(y, strides, offset).Run<long>(p.Ints[Inputs[0]]!, data);
            return NoStep.Known;
        }
        Float(p, 0, name);
        p.Define(Output, y, Node);
        return new CopyStep(this, new StridedCopy(y, strides, offset));
    }

    private sealed class CopyStep(CopyOp op, StridedCopy copy) : Step
    {
        public override string Detail => copy.Detail;

        public override void Run(Frame f) => copy.Run(f.Read(op.Inputs[0]), f.Write(op.Output));
    }
}
