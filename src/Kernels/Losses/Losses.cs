using System.Numerics.Tensors;
using CommunityToolkit.HighPerformance;

namespace Kernels;

/// <summary>
/// Vectorized losses (TensorPrimitives per row); semantics of <see cref="Reference.Losses"/>. Each returns the loss
/// averaged over the N rows and overwrites the gradient of its first input. The loss is accumulated in double.
/// </summary>
public static class Losses
{
    /// <summary>Softmax cross-entropy, max-shifted (finite for scores of +/-1000); <c>dscores = (softmax - onehot) / N</c>.</summary>
    /// <param name="scores">Class scores (N, C).</param>
    /// <param name="labels">Correct class per row (N), each in [0, C).</param>
    /// <param name="dscores">Gradient (N, C); must not overlap scores.</param>
    public static float Softmax(ReadOnlySpan2D<float> scores, ReadOnlySpan<int> labels, Span2D<float> dscores)
    {
        Reference.Losses.ValidateClassification(scores, labels, dscores);
        int n = scores.Height;
        float invN = 1f / n;
        double loss = 0;
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<float> s = scores.GetRowSpan(i);
            Span<float> d = dscores.GetRowSpan(i);
            float max = TensorPrimitives.Max(s);
            TensorPrimitives.Subtract(s, max, d);          // shifted scores
            float shiftedLabel = d[labels[i]];
            TensorPrimitives.Exp(d, d);
            float sum = TensorPrimitives.Sum(d);
            loss += Math.Log(sum) - shiftedLabel;
            TensorPrimitives.Multiply(d, invN / sum, d);   // softmax / N
            d[labels[i]] -= invN;
        }
        return (float)(loss / n);
    }

    /// <summary>Multiclass SVM (hinge) loss with margin 1, correct class excluded; see <see cref="Reference.Losses.Svm{T}"/>.</summary>
    /// <param name="scores">Class scores (N, C).</param>
    /// <param name="labels">Correct class per row (N), each in [0, C).</param>
    /// <param name="dscores">Gradient (N, C); must not overlap scores.</param>
    public static float Svm(ReadOnlySpan2D<float> scores, ReadOnlySpan<int> labels, Span2D<float> dscores)
    {
        Reference.Losses.ValidateClassification(scores, labels, dscores);
        int n = scores.Height;
        float invN = 1f / n;
        double loss = 0;
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<float> s = scores.GetRowSpan(i);
            Span<float> d = dscores.GetRowSpan(i);
            int y = labels[i], positive = 0;
            // margins (s_j - s_y) + 1, rounded in the oracle's order: s_j + (1 - s_y) differs near 0
            TensorPrimitives.Subtract(s, s[y], d);
            TensorPrimitives.Add(d, 1f, d);
            for (int j = 0; j < d.Length; j++)
            {
                bool counts = j != y && d[j] > 0f;
                if (counts) { loss += d[j]; positive++; }
                d[j] = counts ? invN : 0f;
            }
            d[y] = -(float)positive / n; // the oracle's rounding: -count / N, not -count * (1 / N)
        }
        return (float)(loss / n);
    }

    /// <summary><c>0.5 * sum((pred - target)^2) / N</c>; <c>dpred = (pred - target) / N</c>.</summary>
    /// <param name="pred">Predictions (N, M).</param>
    /// <param name="target">Targets (N, M).</param>
    /// <param name="dpred">Gradient (N, M); must not overlap pred or target.</param>
    public static float MeanSquaredError(ReadOnlySpan2D<float> pred, ReadOnlySpan2D<float> target, Span2D<float> dpred)
    {
        Reference.Losses.ValidateRegression(pred, target, dpred);
        int n = pred.Height;
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            Span<float> d = dpred.GetRowSpan(i);
            TensorPrimitives.Subtract(pred.GetRowSpan(i), target.GetRowSpan(i), d);
            sum += TensorPrimitives.SumOfSquares(d);
            TensorPrimitives.Divide(d, n, d);
        }
        return (float)(0.5 * sum / n);
    }
}
