using System.Numerics.Tensors;
using CommunityToolkit.HighPerformance;

namespace Kernels.Onnx.Runtime.Ops;

/// <summary>
/// Gemm (Y = alpha op(A) op(B) + beta C, C broadcast from a scalar, a row, a column or the full M x N) and MatMul
/// (2-D B: A of rank 2 or more, its leading dims flattened into rows; other operands: <see cref="BatchedMatMul"/>) on
/// the packed <see cref="Kernels.Gemm"/>.
/// A constant B stored transposed (PyTorch's Linear: out x in) is transposed once at load: the GEMM packs a
/// row-major B with contiguous copies, a transposed one element by element, on every call.
/// </summary>
internal sealed class GemmOp : Op
{
    private readonly bool _transA, _transB, _matMul, _exactC;
    private readonly float _alpha, _beta;
    // B as the op reads it: the constant (transposed once where the file stores it transposed), or null for a computed B.
    private readonly float[]? _constantB;
    private readonly int[]? _constantBDims;

    private GemmOp(OpContext c, bool transA, bool transB, float alpha, float beta, bool matMul, bool exactC)
        : base(c.Node, c.Input(2) >= 0 ? [c.Input(0), c.Input(1), c.Input(2)] : [c.Input(0), c.Input(1)], c.SupportedOutputs(1))
    {
        (_transA, _alpha, _beta, _matMul, _exactC) = (transA, alpha, beta, matMul, exactC);
        if (c.Constant(1) is { Floats: float[] w, Dims: [int rows, int cols] } && transB)
        {
            var transposed = new float[w.Length];
            // In 64 x 64 blocks: row by row, VGG's 4096 x 25088 weights took seconds of cache misses at load.
            const int block = 64;
            for (int i0 = 0; i0 < rows; i0 += block)
                for (int j0 = 0; j0 < cols; j0 += block)
                    for (int i = i0; i < Math.Min(i0 + block, rows); i++)
                        for (int j = j0; j < Math.Min(j0 + block, cols); j++) transposed[(long)j * rows + i] = w[(long)i * cols + j];
            (_constantB, _constantBDims, transB) = (transposed, [cols, rows], false);
        }
        _transB = transB;
    }

    public static Op Gemm(OpContext c)
    {
        NodeAttributes a = c.Attributes;
        a.OnlyKnown(c.Opset < 7 ? ["alpha", "beta", "broadcast", "transA", "transB"] : ["alpha", "beta", "transA", "transB"]);
        c.Arity(c.Opset < 11 ? 3 : 2, 3); // C is optional from opset 11
        return new GemmOp(c, a.Int("transA", 0) != 0, a.Int("transB", 0) != 0, a.Float("alpha", 1f), a.Float("beta", 1f), matMul: false,
            exactC: c.Opset < 7 && a.Int("broadcast", 0) == 0);
    }

    public static Op MatMul(OpContext c)
    {
        c.Attributes.OnlyKnown();
        c.Arity(2, 2);
        return new GemmOp(c, false, false, 1f, 0f, matMul: true, exactC: false);
    }

    public override Step Plan(PlanContext p)
    {
        int[] a = Float(p, 0, "A"), b = _constantBDims ?? Float(p, 1, "B");
        if (_matMul && (a.Length < 2 || b.Length != 2)) return BatchedMatMul.Plan(p, Node, Inputs[0], Inputs[1], Output, a, b);
        if (!_matMul && a.Length != 2) throw Invalid($"A has rank {a.Length} {Format(a)} but must have rank 2");
        if (!_matMul && b.Length != 2) throw Invalid($"B has rank {b.Length} {Format(b)} but must have rank 2");
        (int m, int n, int k) = Extent(a, b);
        int kb = _transB ? b[1] : b[0];
        if (kb != k) throw Invalid($"op(A) {Format(a)} has {k} columns but op(B) {Format(b)} has {kb} rows (transA {_transA}, " +
            $"transB {_transB})");
        if (Inputs.Length == 3)
        {
            int[] c = Float(p, 2, "C");
            int cm = c.Length == 2 ? c[0] : 1, cn = c.Length >= 1 ? c[^1] : 1;
            if (c.Length > 2 || cm != 1 && cm != m || cn != 1 && cn != n || _exactC && (cm != m || cn != n))
                throw Invalid($"C {Format(c)} does not {(_exactC ? "equal" : "broadcast to")} ({m},{n})");
        }
        p.Define(Output, _matMul ? [.. a[..^1], n] : [m, n], Node);
        return new GemmStep(this, m, n, k);
    }

    /// <summary>(M, N, K) of op(A) op(B) for these dims (MatMul: A's leading dims flattened into M).</summary>
    private (int M, int N, int K) Extent(int[] a, int[] b) => _matMul
        ? ((int)Sizes.Elements(a.AsSpan(0, a.Length - 1)), b[1], a[^1])
        : (_transA ? a[1] : a[0], _transB ? b[0] : b[1], _transA ? a[0] : a[1]);

    private sealed class GemmStep(GemmOp op, int m, int n, int k) : Step
    {
        public override void Run(Frame f)
        {
            int[] a = f.Dims(op.Inputs[0]), b = op._constantBDims ?? f.Dims(op.Inputs[1]);
            Span2D<float> y = f.Write(op.Output).AsSpan2D(m, n);
            float keep = 0f;
            if (op.Inputs.Length == 3 && op._beta != 0f)
            {
                int[] c = f.Dims(op.Inputs[2]);
                ReadOnlySpan<float> cd = f.Read(op.Inputs[2]);
                int cm = c.Length == 2 ? c[0] : 1, cn = c.Length >= 1 ? c[^1] : 1;
                for (int i = 0; i < m; i++)
                {
                    Span<float> row = y.GetRowSpan(i);
                    ReadOnlySpan<float> crow = cd.Slice((cm == 1 ? 0 : i) * cn, cn);
                    if (cn == 1) row.Fill(op._beta * crow[0]);
                    else TensorPrimitives.Multiply(crow, op._beta, row);
                }
                keep = 1f;
            }
            ReadOnlySpan2D<float> ma = f.Read(op.Inputs[0]).AsSpan2D(op._matMul ? m : a[0], op._matMul ? k : a[1]);
            ReadOnlySpan<float> bd = op._constantB is float[] constant ? constant : f.Read(op.Inputs[1]);
            ReadOnlySpan2D<float> mb = bd.AsSpan2D(b[0], b[1]);
            Kernels.Gemm.Multiply(op._transA ? MatrixTranspose.Transpose : MatrixTranspose.None,
                op._transB ? MatrixTranspose.Transpose : MatrixTranspose.None, op._alpha, ma, mb, keep, y, f.Degree);
        }
    }
}
