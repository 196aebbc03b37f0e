using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using CommunityToolkit.HighPerformance;
using Kernels.Threading;

namespace Kernels;

/// <summary>
/// Vectorized losses (TensorPrimitives per row); semantics of <see cref="Reference.Losses"/>. Each returns the loss
/// averaged over the N rows and overwrites the gradient of its first input. Rows are independent: each row's loss
/// is computed in double (on whichever thread), and the row losses are added in row order, so the result is
/// identical for every <c>maxDegreeOfParallelism</c>.
/// </summary>
public static unsafe class Losses
{
    /// <summary>Softmax cross-entropy, max-shifted (finite for scores of +/-1000); <c>dscores = (softmax - onehot) / N</c>.</summary>
    /// <param name="scores">Class scores (N, C).</param>
    /// <param name="labels">Correct class per row (N), each in [0, C).</param>
    /// <param name="dscores">Gradient (N, C); must not overlap scores.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static float Softmax(ReadOnlySpan2D<float> scores, ReadOnlySpan<int> labels, Span2D<float> dscores, int maxDegreeOfParallelism = 1)
    {
        Reference.Losses.ValidateClassification(scores, labels, dscores);
        return (float)(Run<SoftmaxRow>(scores, scores, labels, dscores, Parallelism.Resolve(maxDegreeOfParallelism)) / scores.Height);
    }

    /// <summary>
    /// One row's softmax, <c>exp(s - max s) / sum</c>: finite for any finite scores (TensorPrimitives.SoftMax
    /// exponentiates the scores themselves and gives NaN from about 89 on). The Classifier's and Kernels.Onnx's
    /// probabilities.
    /// </summary>
    /// <param name="scores">Class scores (C), at least one.</param>
    /// <param name="probabilities">Receives C probabilities; may be the scores' own span.</param>
    public static void Probabilities(ReadOnlySpan<float> scores, Span<float> probabilities)
    {
        if (scores.IsEmpty) Guard.Throw(nameof(scores), "scores is empty; a softmax needs at least one score.");
        if (probabilities.Length != scores.Length)
            Guard.Throw(nameof(probabilities), $"probabilities has length {probabilities.Length} but scores has {scores.Length}.");
        TensorPrimitives.Subtract(scores, TensorPrimitives.Max(scores), probabilities);
        TensorPrimitives.Exp(probabilities, probabilities);
        TensorPrimitives.Divide(probabilities, TensorPrimitives.Sum(probabilities), probabilities);
    }

    /// <summary>Multiclass SVM (hinge) loss with margin 1, correct class excluded; see <see cref="Reference.Losses.Svm{T}"/>.</summary>
    /// <param name="scores">Class scores (N, C).</param>
    /// <param name="labels">Correct class per row (N), each in [0, C).</param>
    /// <param name="dscores">Gradient (N, C); must not overlap scores.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static float Svm(ReadOnlySpan2D<float> scores, ReadOnlySpan<int> labels, Span2D<float> dscores, int maxDegreeOfParallelism = 1)
    {
        Reference.Losses.ValidateClassification(scores, labels, dscores);
        return (float)(Run<SvmRow>(scores, scores, labels, dscores, Parallelism.Resolve(maxDegreeOfParallelism)) / scores.Height);
    }

    /// <summary><c>0.5 * sum((pred - target)^2) / N</c>; <c>dpred = (pred - target) / N</c>.</summary>
    /// <param name="pred">Predictions (N, M).</param>
    /// <param name="target">Targets (N, M).</param>
    /// <param name="dpred">Gradient (N, M); must not overlap pred or target.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static float MeanSquaredError(ReadOnlySpan2D<float> pred, ReadOnlySpan2D<float> target, Span2D<float> dpred, int maxDegreeOfParallelism = 1)
    {
        Reference.Losses.ValidateRegression(pred, target, dpred);
        return (float)(0.5 * Run<SquaredErrorRow>(pred, target, default, dpred, Parallelism.Resolve(maxDegreeOfParallelism)) / pred.Height);
    }

    /// <summary>Below this many elements per thread a loss stays on fewer threads (a row of 10 classes is ~50 ns).</summary>
    private const long MinElementsPerThread = 1 << 14;

    /// <summary>The sum over rows, in row order, of each row's loss; writes every row's gradient.</summary>
    private static double Run<TRow>(ReadOnlySpan2D<float> a, ReadOnlySpan2D<float> b, ReadOnlySpan<int> labels, Span2D<float> d, int degree)
        where TRow : IRow
    {
        int n = a.Height, c = a.Width;
        double* losses = (double*)Scratch.Get(Scratch.Role.RowLosses, 2L * n); // n doubles
        fixed (float* pa = &a.DangerousGetReference(), pb = &b.DangerousGetReference(), pd = &d.DangerousGetReference())
        fixed (int* pl = labels)
        {
            var rows = new Rows<TRow>(pa, c + Matrices.Pitch(a), pb, c + Matrices.Pitch(b), pl, pd, c + Matrices.Pitch<float>(d), c, n, losses);
            Parallelism.For(n, Partition.Threads(degree, (long)n * c, MinElementsPerThread), rows);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) sum += losses[i];
        return sum;
    }

    /// <summary>One row of a loss: returns its loss term and writes its gradient row.</summary>
    private interface IRow
    {
        static abstract double Invoke(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int label, Span<float> d, int rows);
    }

    private readonly struct Rows<TRow>(float* a, nint lda, float* b, nint ldb, int* labels, float* d, nint ldd, int c, int n, double* losses)
        : IIndexAction where TRow : IRow
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Invoke(int i) =>
            losses[i] = TRow.Invoke(new(a + i * lda, c), new(b + i * ldb, c), labels == null ? 0 : labels[i], new(d + i * ldd, c), n);
    }

    private readonly struct SoftmaxRow : IRow
    {
        public static double Invoke(ReadOnlySpan<float> s, ReadOnlySpan<float> unused, int label, Span<float> d, int rows)
        {
            float max = TensorPrimitives.Max(s);
            TensorPrimitives.Subtract(s, max, d);          // shifted scores
            float shiftedLabel = d[label];
            TensorPrimitives.Exp(d, d);
            float sum = TensorPrimitives.Sum(d);
            TensorPrimitives.Multiply(d, 1f / rows / sum, d); // softmax / N
            d[label] -= 1f / rows;
            return Math.Log(sum) - shiftedLabel;
        }
    }

    private readonly struct SvmRow : IRow
    {
        public static double Invoke(ReadOnlySpan<float> s, ReadOnlySpan<float> unused, int y, Span<float> d, int rows)
        {
            // margins (s_j - s_y) + 1, rounded in the oracle's order: s_j + (1 - s_y) differs near 0
            TensorPrimitives.Subtract(s, s[y], d);
            TensorPrimitives.Add(d, 1f, d);
            float invN = 1f / rows;
            double loss = 0;
            int positive = 0;
            for (int j = 0; j < d.Length; j++)
            {
                bool counts = j != y && d[j] > 0f;
                if (counts) { loss += d[j]; positive++; }
                d[j] = counts ? invN : 0f;
            }
            d[y] = -(float)positive / rows; // the oracle's rounding: -count / N, not -count * (1 / N)
            return loss;
        }
    }

    private readonly struct SquaredErrorRow : IRow
    {
        public static double Invoke(ReadOnlySpan<float> pred, ReadOnlySpan<float> target, int unused, Span<float> d, int rows)
        {
            TensorPrimitives.Subtract(pred, target, d);
            double sum = TensorPrimitives.SumOfSquares(d);
            TensorPrimitives.Divide(d, rows, d);
            return sum;
        }
    }
}
