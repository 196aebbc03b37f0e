using System.Numerics;
using CommunityToolkit.HighPerformance;

namespace Kernels.Reference;

/// <summary>
/// Oracle losses. Each returns the loss averaged over the N rows and overwrites the gradient with respect to
/// its first input (same shape). Class labels must lie in [0, C).
/// </summary>
public static class Losses
{
    /// <summary>
    /// Softmax cross-entropy: <c>mean_i (logsumexp(s[i,:]) - s[i, y[i]])</c> with the max subtracted first, so
    /// scores of +/-1000 stay finite. <c>dscores = (softmax(s) - onehot(y)) / N</c>.
    /// </summary>
    public static T Softmax<T>(ReadOnlySpan2D<T> scores, ReadOnlySpan<int> labels, Span2D<T> dscores)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ValidateClassification(scores, labels, dscores);
        int n = scores.Height, c = scores.Width;
        T count = T.CreateChecked(n), loss = T.Zero;
        for (int i = 0; i < n; i++)
        {
            T max = scores[i, 0];
            for (int j = 1; j < c; j++) max = T.Max(max, scores[i, j]);
            T sum = T.Zero;
            for (int j = 0; j < c; j++) sum += T.Exp(scores[i, j] - max);
            // Work with shifted scores s - max throughout: subtracting max back out of max + log(sum) would
            // cancel digits when |max| is large.
            T logSum = T.Log(sum);
            loss += logSum - (scores[i, labels[i]] - max);
            for (int j = 0; j < c; j++)
                dscores[i, j] = (T.Exp(scores[i, j] - max - logSum) - (j == labels[i] ? T.One : T.Zero)) / count;
        }
        return loss / count;
    }

    /// <summary>
    /// Multiclass SVM (hinge) loss with margin 1, as in cs231n:
    /// <c>mean_i sum_{j != y[i]} max(0, s[i,j] - s[i,y[i]] + 1)</c>. The gradient is +1/N for each positive margin
    /// and -(count of positive margins)/N at the correct class (a margin of exactly 0 counts as not positive).
    /// </summary>
    public static T Svm<T>(ReadOnlySpan2D<T> scores, ReadOnlySpan<int> labels, Span2D<T> dscores)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ValidateClassification(scores, labels, dscores);
        int n = scores.Height, c = scores.Width;
        T count = T.CreateChecked(n), loss = T.Zero;
        for (int i = 0; i < n; i++)
        {
            T correct = scores[i, labels[i]];
            int positive = 0;
            for (int j = 0; j < c; j++)
            {
                T margin = scores[i, j] - correct + T.One;
                bool counts = j != labels[i] && margin > T.Zero;
                if (counts) { loss += margin; positive++; }
                dscores[i, j] = counts ? T.One / count : T.Zero;
            }
            dscores[i, labels[i]] = -T.CreateChecked(positive) / count;
        }
        return loss / count;
    }

    /// <summary>
    /// Mean-squared error for regression (e.g. keypoints): <c>0.5 * sum((pred - target)^2) / N</c> with N the rows;
    /// <c>dpred = (pred - target) / N</c>.
    /// </summary>
    public static T MeanSquaredError<T>(ReadOnlySpan2D<T> pred, ReadOnlySpan2D<T> target, Span2D<T> dpred)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ValidateRegression(pred, target, dpred);
        T count = T.CreateChecked(pred.Height), sum = T.Zero;
        T half = T.One / (T.One + T.One);
        for (int i = 0; i < pred.Height; i++)
        for (int j = 0; j < pred.Width; j++)
        {
            T d = pred[i, j] - target[i, j];
            sum += d * d;
            dpred[i, j] = d / count;
        }
        return half * sum / count;
    }

    internal static void ValidateClassification<T>(ReadOnlySpan2D<T> scores, ReadOnlySpan<int> labels, Span2D<T> dscores)
    {
        if (scores.IsEmpty) Guard.Throw(nameof(scores), $"scores is {scores.Height} x {scores.Width} but needs at least one row and one class.");
        Guard.Length(labels.Length, scores.Height, nameof(labels), $"scores with {scores.Height} rows");
        Matrices.Shape(dscores.Height, dscores.Width, scores.Height, scores.Width, nameof(dscores), $"scores");
        for (int i = 0; i < labels.Length; i++)
            if ((uint)labels[i] >= (uint)scores.Width)
                Guard.ThrowOutOfRange(nameof(labels), labels[i], $"labels[{i}] is {labels[i]} but must be in [0, {scores.Width}).");
        Matrices.NoOverlap(dscores, scores, nameof(dscores), nameof(scores));
    }

    internal static void ValidateRegression<T>(ReadOnlySpan2D<T> pred, ReadOnlySpan2D<T> target, Span2D<T> dpred)
    {
        if (pred.IsEmpty) Guard.Throw(nameof(pred), $"pred is {pred.Height} x {pred.Width} but needs at least one row and one column.");
        Matrices.Shape(target.Height, target.Width, pred.Height, pred.Width, nameof(target), $"pred");
        Matrices.Shape(dpred.Height, dpred.Width, pred.Height, pred.Width, nameof(dpred), $"pred");
        Matrices.NoOverlap(dpred, pred, nameof(dpred), nameof(pred));
        Matrices.NoOverlap(dpred, target, nameof(dpred), nameof(target));
    }
}
