using System.Numerics.Tensors;
using CommunityToolkit.HighPerformance;

namespace Kernels.Onnx.Runtime.Ops;

/// <summary>Relu on the fast element-wise kernel.</summary>
internal sealed class ReluOp(string node, int x, int output) : Op(node, [x], output)
{
    public override int[] Infer(Values v) => DimsOf(v, 0);

    public override void Run(Values v, float[] scratch, int degree) => Relu.Forward(v.Data[Inputs[0]], v.Data[Output], degree);
}

/// <summary>
/// Add with numpy broadcasting (rank up to 4): the dims are aligned at the end, and the innermost run where both
/// operands advance together (or one stays put) goes to TensorPrimitives in one call.
/// </summary>
internal sealed class AddOp(string node, int a, int b, int output) : Op(node, [a, b], output)
{
    public override int[] Infer(Values v)
    {
        int[] a = DimsOf(v, 0), b = DimsOf(v, 1);
        int rank = Math.Max(a.Length, b.Length);
        if (rank > 4) throw new NotSupportedException($"{Node}: rank {rank} inputs; Add supports rank up to 4.");
        var y = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = Dim(a, i, rank), db = Dim(b, i, rank);
            if (da != db && da != 1 && db != 1) throw Invalid($"A {Format(a)} and B {Format(b)} do not broadcast (dimension {i}: {da} and {db})");
            y[i] = Math.Max(da, db);
        }
        return y;
    }

    private static int Dim(int[] d, int i, int rank) => i - (rank - d.Length) is int k && k >= 0 ? d[k] : 1;

    public override void Run(Values v, float[] scratch, int degree)
    {
        int[] a = DimsOf(v, 0), b = DimsOf(v, 1), y = v.Dims[Output];
        ReadOnlySpan<float> sa = v.Data[Inputs[0]], sb = v.Data[Inputs[1]];
        Span<float> sy = v.Data[Output];
        int rank = y.Length;
        // Strides in elements (0 where broadcast), over 4 dims with leading 1s.
        Span<int> ya = stackalloc int[4], yb = stackalloc int[4], dims = stackalloc int[4];
        dims.Fill(1);
        y.CopyTo(dims[(4 - rank)..]);
        Strides(a, rank, ya);
        Strides(b, rank, yb);
        int inner = dims[3];
        for (int i0 = 0; i0 < dims[0]; i0++)
            for (int i1 = 0; i1 < dims[1]; i1++)
                for (int i2 = 0; i2 < dims[2]; i2++)
                {
                    int oa = i0 * ya[0] + i1 * ya[1] + i2 * ya[2], ob = i0 * yb[0] + i1 * yb[1] + i2 * yb[2];
                    Span<float> dst = sy.Slice(((i0 * dims[1] + i1) * dims[2] + i2) * inner, inner);
                    if (ya[3] == 1 && yb[3] == 1) TensorPrimitives.Add(sa.Slice(oa, inner), sb.Slice(ob, inner), dst);
                    else if (ya[3] == 1) TensorPrimitives.Add(sa.Slice(oa, inner), sb[ob], dst);
                    else if (yb[3] == 1) TensorPrimitives.Add(sb.Slice(ob, inner), sa[oa], dst);
                    else dst.Fill(sa[oa] + sb[ob]);
                }
    }

    private static void Strides(int[] d, int rank, Span<int> strides)
    {
        Span<int> dims = stackalloc int[4];
        dims.Fill(1);
        d.CopyTo(dims[(4 - d.Length)..]);
        int stride = 1;
        for (int i = 3; i >= 0; i--)
        {
            strides[i] = dims[i] == 1 ? 0 : stride;
            stride *= dims[i];
        }
    }
}

/// <summary>BatchNormalization (inference) not folded into a Conv: y = x * scale + shift per channel (dimension 1).</summary>
internal sealed class ScaleShiftOp(string node, int x, int output, float[] scale, float[] shift) : Op(node, [x], output)
{
    public override int[] Infer(Values v)
    {
        int[] x = DimsOf(v, 0);
        if (x.Length < 2 || x[1] != scale.Length) throw Invalid($"X {Format(x)} must have {scale.Length} channels in dimension 1");
        return x;
    }

    public override void Run(Values v, float[] scratch, int degree)
    {
        int[] x = DimsOf(v, 0);
        int plane = (int)Elements(x.AsSpan(2));
        ReadOnlySpan<float> src = v.Data[Inputs[0]];
        Span<float> dst = v.Data[Output];
        for (int n = 0; n < x[0]; n++)
            for (int c = 0; c < x[1]; c++)
            {
                int at = (n * x[1] + c) * plane;
                TensorPrimitives.Multiply(src.Slice(at, plane), scale[c], dst.Slice(at, plane));
                TensorPrimitives.Add(dst.Slice(at, plane), shift[c], dst.Slice(at, plane));
            }
    }
}

/// <summary>
/// Softmax along one axis. Opset 13 on: that axis alone; before 13: the input seen as 2-D, rows of everything from
/// the axis on (the same thing when the axis is the last).
/// </summary>
internal sealed class SoftmaxOp(string node, int x, int output, long axis, bool flattenRows) : Op(node, [x], output)
{
    public override int[] Infer(Values v)
    {
        int[] d = DimsOf(v, 0);
        if (axis < -d.Length || axis >= d.Length) throw Invalid($"axis {axis} is outside [-{d.Length}, {d.Length - 1}] for X {Format(d)}");
        return d;
    }

    /// <summary>(rows before the axis, length along it, elements after it) for these dims.</summary>
    private (int Outer, int Length, int Inner) Extent(int[] d)
    {
        int a = (int)(axis < 0 ? axis + d.Length : axis);
        return flattenRows ? ((int)Elements(d.AsSpan(0, a)), (int)Elements(d.AsSpan(a)), 1)
            : ((int)Elements(d.AsSpan(0, a)), d[a], (int)Elements(d.AsSpan(a + 1)));
    }

    public override void Run(Values v, float[] scratch, int degree)
    {
        (int outer, int length, int inner) = Extent(DimsOf(v, 0));
        ReadOnlySpan<float> src = v.Data[Inputs[0]];
        Span<float> dst = v.Data[Output];
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++) Losses.Probabilities(src.Slice(o * length, length), dst.Slice(o * length, length));
            return;
        }
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int start = o * length * inner + i;
                float max = float.NegativeInfinity;
                for (int k = 0; k < length; k++) max = Math.Max(max, src[start + k * inner]);
                double sum = 0;
                for (int k = 0; k < length; k++) sum += dst[start + k * inner] = MathF.Exp(src[start + k * inner] - max);
                float scale = (float)(1 / sum);
                for (int k = 0; k < length; k++) dst[start + k * inner] *= scale;
            }
    }
}

/// <summary>
/// Gemm (Y = alpha op(A) op(B) + beta C, C broadcast from a scalar, a row, a column or the full M x N) and MatMul
/// (2-D B; A of rank 2 or more, its leading dims flattened into rows) on the packed <see cref="Kernels.Gemm"/>.
/// </summary>
internal sealed class GemmOp(string node, int a, int b, int c, int output, bool transA, bool transB, float alpha, float beta, bool matMul)
    : Op(node, c >= 0 ? [a, b, c] : [a, b], output)
{
    /// <summary>(M, N, K) of op(A) op(B) for these dims (MatMul: A's leading dims flattened into M).</summary>
    private (int M, int N, int K) Extent(int[] a, int[] b) => matMul
        ? ((int)Elements(a.AsSpan(0, a.Length - 1)), b[1], a[^1])
        : (transA ? a[1] : a[0], transB ? b[0] : b[1], transA ? a[0] : a[1]);

    public override int[] Infer(Values v)
    {
        int[] a = DimsOf(v, 0), b = Rank(v, 1, 2, "B");
        if (matMul && a.Length < 2) throw new NotSupportedException($"{Node}: A of rank {a.Length}; MatMul supports A of rank 2 or more with a 2-D B.");
        if (!matMul) a = Rank(v, 0, 2, "A");
        (int m, int n, int k) = Extent(a, b);
        int kb = transB ? b[1] : b[0];
        if (kb != k) throw Invalid($"op(A) {Format(a)} has {k} columns but op(B) {Format(b)} has {kb} rows (transA {transA}, transB {transB})");
        if (matMul) return [.. a[..^1], n];
        if (Inputs.Length == 3)
        {
            int[] c = DimsOf(v, 2);
            int cm = c.Length == 2 ? c[0] : 1, cn = c.Length >= 1 ? c[^1] : 1;
            if (c.Length > 2 || cm != 1 && cm != m || cn != 1 && cn != n) throw Invalid($"C {Format(c)} does not broadcast to ({m},{n})");
        }
        return [m, n];
    }

    public override void Run(Values v, float[] scratch, int degree)
    {
        int[] a = DimsOf(v, 0), b = DimsOf(v, 1);
        (int m, int n, int k) = Extent(a, b);
        var y = new Span2D<float>(v.Data[Output], m, n);
        float keep = 0f;
        if (Inputs.Length == 3 && beta != 0f)
        {
            int[] c = DimsOf(v, 2);
            float[] cd = v.Data[Inputs[2]];
            int cm = c.Length == 2 ? c[0] : 1, cn = c.Length >= 1 ? c[^1] : 1;
            for (int i = 0; i < m; i++)
            {
                Span<float> row = y.GetRowSpan(i);
                ReadOnlySpan<float> crow = cd.AsSpan((cm == 1 ? 0 : i) * cn, cn);
                if (cn == 1) row.Fill(beta * crow[0]);
                else TensorPrimitives.Multiply(crow, beta, row);
            }
            keep = 1f;
        }
        var ma = new ReadOnlySpan2D<float>(v.Data[Inputs[0]], matMul ? m : a[0], matMul ? k : a[1]);
        var mb = new ReadOnlySpan2D<float>(v.Data[Inputs[1]], b[0], b[1]);
        Kernels.Gemm.Multiply(transA ? MatrixTranspose.Transpose : MatrixTranspose.None, transB ? MatrixTranspose.Transpose : MatrixTranspose.None,
            alpha, ma, mb, keep, y, degree);
    }
}
