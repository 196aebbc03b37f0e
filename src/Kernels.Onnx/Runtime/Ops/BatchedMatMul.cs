using CommunityToolkit.HighPerformance;

namespace Kernels.Onnx.Runtime.Ops;

/// <summary>
/// MatMul as numpy's matmul where B is not one 2-D matrix: a 1-D A is a row (1, K) and a 1-D B a column (K, 1), their
/// extra 1 dropped from the result; the leading (batch) dims of A and B broadcast, and each output matrix is one
/// product on the packed GEMM. (A 2-D B is the faster case GemmOp handles: A's leading dims flattened into rows.)
/// </summary>
internal sealed class BatchedMatMul : Step
{
    private readonly int _a, _b, _y, _m, _n, _k;
    private readonly int[] _batch, _strideA, _strideB; // per batch axis: its size, and each operand's matrix stride (0: broadcast)

    private BatchedMatMul(int a, int b, int y, int m, int n, int k, int[] batch, int[] strideA, int[] strideB) =>
        (_a, _b, _y, _m, _n, _k, _batch, _strideA, _strideB) = (a, b, y, m, n, k, batch, strideA, strideB);

    /// <summary>Defines the output and returns the step, or throws naming the node when the operands do not fit.</summary>
    public static BatchedMatMul Plan(PlanContext p, string node, int a, int b, int y, int[] da, int[] db)
    {
        if (da.Length == 0 || db.Length == 0) throw new InvalidDataException($"{node}: MatMul of a scalar ({Op.Format(da)} by " +
            $"{Op.Format(db)}).");
        int[] ma = da.Length == 1 ? [1, da[0]] : da, mb = db.Length == 1 ? [db[0], 1] : db;
        int m = ma[^2], k = ma[^1], n = mb[^1];
        if (mb[^2] != k) throw new InvalidDataException($"{node}: A {Op.Format(da)} has {k} columns but B {Op.Format(db)} has " +
            $"{mb[^2]} rows.");
        int[] batchA = ma[..^2], batchB = mb[..^2];
        int[] batch = Elementwise.Broadcast.Dims(batchA, batchB)
            ?? throw new InvalidDataException($"{node}: the batch dims of A {Op.Format(da)} and B {Op.Format(db)} do not broadcast.");
        int rank = batch.Length;
        var strideA = new int[rank];
        var strideB = new int[rank];
        for (int i = rank - 1, sa = m * k, sb = k * n; i >= 0; i--)
        {
            int ia = i - (rank - batchA.Length), ib = i - (rank - batchB.Length);
            int na = ia >= 0 ? batchA[ia] : 1, nb = ib >= 0 ? batchB[ib] : 1;
            (strideA[i], strideB[i]) = (na == 1 ? 0 : sa, nb == 1 ? 0 : sb);
            (sa, sb) = (sa * na, sb * nb);
        }
        int[] dims = [.. batch, .. da.Length == 1 ? Array.Empty<int>() : [m], .. db.Length == 1 ? Array.Empty<int>() : [n]];
        p.Define(y, dims, node);
        return new BatchedMatMul(a, b, y, m, n, k, batch, strideA, strideB);
    }

    public override string Detail => $"{Sizes.Elements(_batch)} products of ({_m},{_k}) by ({_k},{_n})";

    public override void Run(Frame f)
    {
        ReadOnlySpan<float> a = f.Read(_a), b = f.Read(_b);
        Span<float> y = f.Write(_y);
        int count = (int)Sizes.Elements(_batch), matrix = _m * _n;
        for (int t = 0; t < count; t++)
        {
            int offsetA = 0, offsetB = 0;
            for (int i = _batch.Length - 1, rest = t; i >= 0; i--)
            {
                int index = rest % _batch[i];
                rest /= _batch[i];
                offsetA += index * _strideA[i];
                offsetB += index * _strideB[i];
            }
            Kernels.Gemm.Multiply(MatrixTranspose.None, MatrixTranspose.None, 1f, a.Slice(offsetA, _m * _k).AsSpan2D(_m, _k),
                b.Slice(offsetB, _k * _n).AsSpan2D(_k, _n), 0f, y.Slice(t * matrix, matrix).AsSpan2D(_m, _n), f.Degree);
        }
    }
}
