using System.Numerics;

namespace Kernels;

/// <summary>
/// Folds an inference-mode batch normalization into the convolution before it, so the pair becomes one
/// convolution: with <c>s[f] = gamma[f] / sqrt(var[f] + eps)</c>, <c>w'[f,...] = w[f,...] * s[f]</c> and
/// <c>b'[f] = (b[f] - mean[f]) * s[f] + beta[f]</c>, then <c>conv(x, w', b') = bn(conv(x, w, b))</c> up to rounding.
/// </summary>
public static class BatchNormFolding
{
    /// <summary>Writes the folded filters and bias; the outputs may be the same memory as w and b (in place).</summary>
    /// <param name="w">Filters (F, C, HH, WW).</param>
    /// <param name="b">Bias, length F, or empty for a convolution without bias.</param>
    /// <param name="gamma">Batch norm scale, length F.</param>
    /// <param name="beta">Batch norm shift, length F.</param>
    /// <param name="runningMean">Batch norm mean, length F.</param>
    /// <param name="runningVar">Batch norm variance, length F.</param>
    /// <param name="epsilon">Batch norm epsilon (&gt; 0, finite).</param>
    /// <param name="foldedW">Folded filters (F, C, HH, WW).</param>
    /// <param name="foldedB">Folded bias, length F.</param>
    public static void Fold<T>(ReadOnlyNchwSpan<T> w, ReadOnlySpan<T> b, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta, ReadOnlySpan<T> runningMean,
        ReadOnlySpan<T> runningVar, double epsilon, NchwSpan<T> foldedW, Span<T> foldedB) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int f = w.Shape.N;
        if (!b.IsEmpty) Guard.Length(b.Length, f, nameof(b), $"F of w (or 0 for no bias)");
        Guard.Length(gamma.Length, f, nameof(gamma), $"F of w");
        Guard.Length(beta.Length, f, nameof(beta), $"F of w");
        Guard.Length(runningMean.Length, f, nameof(runningMean), $"F of w");
        Guard.Length(runningVar.Length, f, nameof(runningVar), $"F of w");
        if (!(epsilon > 0) || !double.IsFinite(epsilon)) Guard.ThrowOutOfRange(nameof(epsilon), epsilon, $"epsilon must be a " +
            $"finite number > 0 but is {epsilon}.");
        Guard.Shape(foldedW.Shape, w.Shape, nameof(foldedW), $"w");
        Guard.Length(foldedB.Length, f, nameof(foldedB), $"F of w");
        Guard.NoPartialOverlap(foldedW.Span, w.Span, nameof(foldedW), nameof(w));
        Guard.NoPartialOverlap(foldedB, b, nameof(foldedB), nameof(b));
        for (int i = 0; i < f; i++)
        {
            double scale = double.CreateTruncating(gamma[i]) / Math.Sqrt(double.CreateTruncating(runningVar[i]) + epsilon);
            double bias = b.IsEmpty ? 0 : double.CreateTruncating(b[i]);
            ReadOnlySpan<T> filter = w.Span.Slice(i * w.Shape.ImageLength, w.Shape.ImageLength);
            Span<T> folded = foldedW.Span.Slice(i * w.Shape.ImageLength, w.Shape.ImageLength);
            for (int j = 0; j < filter.Length; j++) folded[j] = T.CreateTruncating(double.CreateTruncating(filter[j]) * scale);
            foldedB[i] = T.CreateTruncating((bias - double.CreateTruncating(runningMean[i])) * scale + double.CreateTruncating(beta[i]));
        }
    }
}
