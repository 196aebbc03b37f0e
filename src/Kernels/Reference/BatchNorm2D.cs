using System.Numerics;

namespace Kernels.Reference;

/// <summary>
/// Oracle spatial batch normalization (cs231n's <c>spatial_batchnorm_forward/backward</c>, PyTorch's
/// <c>BatchNorm2d</c>): x (N, C, H, W) is normalized per channel over the N*H*W values of that channel.
/// Textbook two-pass statistics and cs231n's staged backward; never optimized.
/// </summary>
public static class BatchNorm2D
{
    /// <summary>
    /// Training forward: per channel c, <c>mean = sum x / M</c>, <c>var = sum (x - mean)^2 / M</c> (biased; M = N*H*W),
    /// <c>y = gamma (x - mean) / sqrt(var + eps) + beta</c>; <c>running = (1 - momentum) running + momentum * stat</c>
    /// with the unbiased <c>var * M / (M - 1)</c> for the running variance (as PyTorch). savedMean and savedInvStd
    /// (<c>1 / sqrt(var + eps)</c>) are what <see cref="Backward{T}"/> needs. y may be the same memory as x.
    /// </summary>
    /// <param name="x">Input (N, C, H, W); N*H*W must be at least 2.</param>
    /// <param name="gamma">Scale, length C.</param>
    /// <param name="beta">Shift, length C.</param>
    /// <param name="p">Epsilon and momentum.</param>
    /// <param name="y">Output (N, C, H, W).</param>
    /// <param name="runningMean">Running mean, length C, updated in place.</param>
    /// <param name="runningVar">Running (unbiased) variance, length C, updated in place.</param>
    /// <param name="savedMean">Batch mean per channel, length C (written).</param>
    /// <param name="savedInvStd">Batch <c>1 / sqrt(var + eps)</c> per channel, length C (written).</param>
    public static void ForwardTraining<T>(ReadOnlyNchwSpan<T> x, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta, BatchNormParams p, NchwSpan<T> y,
        Span<T> runningMean, Span<T> runningVar, Span<T> savedMean, Span<T> savedInvStd) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ValidateTraining(x, gamma, beta, p, y, runningMean, runningVar, savedMean, savedInvStd);
        Shape4 s = x.Shape;
        T m = T.CreateChecked((long)s.N * s.PlaneLength), eps = T.CreateChecked(p.Epsilon), momentum = T.CreateChecked(p.Momentum);
        for (int c = 0; c < s.C; c++)
        {
            T sum = T.Zero;
            for (int n = 0; n < s.N; n++)
                foreach (T v in x.Plane(n, c)) sum += v;
            T mean = sum / m, squares = T.Zero;
            for (int n = 0; n < s.N; n++)
                foreach (T v in x.Plane(n, c)) squares += (v - mean) * (v - mean);
            T variance = squares / m, invStd = T.One / T.Sqrt(variance + eps);
            for (int n = 0; n < s.N; n++)
            {
                ReadOnlySpan<T> xp = x.Plane(n, c);
                Span<T> yp = y.Plane(n, c);
                for (int i = 0; i < xp.Length; i++) yp[i] = gamma[c] * (xp[i] - mean) * invStd + beta[c];
            }
            savedMean[c] = mean;
            savedInvStd[c] = invStd;
            runningMean[c] = (T.One - momentum) * runningMean[c] + momentum * mean;
            runningVar[c] = (T.One - momentum) * runningVar[c] + momentum * variance * m / (m - T.One);
        }
    }

    /// <summary>
    /// Inference: <c>y = gamma (x - runningMean) / sqrt(runningVar + eps) + beta</c> per channel. y may be the same memory as x.
    /// </summary>
    /// <param name="x">Input (N, C, H, W).</param>
    /// <param name="gamma">Scale, length C.</param>
    /// <param name="beta">Shift, length C.</param>
    /// <param name="runningMean">Mean, length C.</param>
    /// <param name="runningVar">Variance, length C (each &gt;= 0).</param>
    /// <param name="epsilon">Added to the variance (&gt; 0, finite).</param>
    /// <param name="y">Output (N, C, H, W).</param>
    public static void ForwardInference<T>(ReadOnlyNchwSpan<T> x, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta, ReadOnlySpan<T> runningMean,
        ReadOnlySpan<T> runningVar, double epsilon, NchwSpan<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ValidateInference(x, gamma, beta, runningMean, runningVar, epsilon, y);
        Shape4 s = x.Shape;
        for (int c = 0; c < s.C; c++)
        {
            T invStd = T.One / T.Sqrt(runningVar[c] + T.CreateChecked(epsilon));
            for (int n = 0; n < s.N; n++)
            {
                ReadOnlySpan<T> xp = x.Plane(n, c);
                Span<T> yp = y.Plane(n, c);
                for (int i = 0; i < xp.Length; i++) yp[i] = gamma[c] * (xp[i] - runningMean[c]) * invStd + beta[c];
            }
        }
    }

    /// <summary>
    /// Backward of <see cref="ForwardTraining{T}"/> in cs231n's stages: <c>xhat = (x - mean) invStd</c>,
    /// <c>dbeta = sum dout</c>, <c>dgamma = sum dout xhat</c>, <c>dxhat = dout gamma</c>,
    /// <c>dvar = sum dxhat (x - mean) (-1/2) invStd^3</c>, <c>dmean = -sum dxhat invStd + dvar sum -2 (x - mean) / M</c>,
    /// <c>dx = dxhat invStd + dvar 2 (x - mean) / M + dmean / M</c>. dx may be the same memory as dout or x.
    /// </summary>
    /// <param name="dout">Upstream gradient (N, C, H, W).</param>
    /// <param name="x">The forward input.</param>
    /// <param name="gamma">Scale, length C.</param>
    /// <param name="savedMean">The forward pass's batch mean, length C.</param>
    /// <param name="savedInvStd">The forward pass's <c>1 / sqrt(var + eps)</c>, length C.</param>
    /// <param name="dx">Gradient of x (N, C, H, W).</param>
    /// <param name="dgamma">Gradient of gamma, length C (overwritten).</param>
    /// <param name="dbeta">Gradient of beta, length C (overwritten).</param>
    public static void Backward<T>(ReadOnlyNchwSpan<T> dout, ReadOnlyNchwSpan<T> x, ReadOnlySpan<T> gamma, ReadOnlySpan<T> savedMean,
        ReadOnlySpan<T> savedInvStd, NchwSpan<T> dx, Span<T> dgamma, Span<T> dbeta) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ValidateBackward(dout, x, gamma, savedMean, savedInvStd, dx, dgamma, dbeta);
        Shape4 s = x.Shape;
        T m = T.CreateChecked((long)s.N * s.PlaneLength), two = T.CreateChecked(2), half = T.CreateChecked(0.5);
        for (int c = 0; c < s.C; c++)
        {
            T mean = savedMean[c], invStd = savedInvStd[c];
            T db = T.Zero, dg = T.Zero, dvar = T.Zero, dmeanTerm = T.Zero, centered = T.Zero;
            for (int n = 0; n < s.N; n++)
            {
                ReadOnlySpan<T> g = dout.Plane(n, c), xp = x.Plane(n, c);
                for (int i = 0; i < g.Length; i++)
                {
                    T xhat = (xp[i] - mean) * invStd, dxhat = g[i] * gamma[c];
                    db += g[i];
                    dg += g[i] * xhat;
                    dvar += dxhat * (xp[i] - mean) * -half * invStd * invStd * invStd;
                    dmeanTerm -= dxhat * invStd;
                    centered += -two * (xp[i] - mean);
                }
            }
            T dmean = dmeanTerm + dvar * centered / m;
            for (int n = 0; n < s.N; n++)
            {
                ReadOnlySpan<T> g = dout.Plane(n, c), xp = x.Plane(n, c);
                Span<T> d = dx.Plane(n, c);
                for (int i = 0; i < g.Length; i++) d[i] = g[i] * gamma[c] * invStd + dvar * two * (xp[i] - mean) / m + dmean / m;
            }
            dgamma[c] = dg;
            dbeta[c] = db;
        }
    }

    internal static void ValidateTraining<T>(ReadOnlyNchwSpan<T> x, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta, BatchNormParams p,
        ReadOnlyNchwSpan<T> y, ReadOnlySpan<T> runningMean, ReadOnlySpan<T> runningVar, ReadOnlySpan<T> savedMean, ReadOnlySpan<T> savedInvStd)
    {
        p.Validate(nameof(p));
        Shape4 s = x.Shape;
        if ((long)s.N * s.PlaneLength < 2)
            Guard.Throw(nameof(x), $"x has shape {s}: training needs at least 2 values per channel (N*H*W = {(long)s.N * s.PlaneLength}).");
        Guard.Shape(y.Shape, s, nameof(y), $"x");
        ValidateChannels(s.C, gamma, beta);
        Guard.Length(runningMean.Length, s.C, nameof(runningMean), $"C of x");
        Guard.Length(runningVar.Length, s.C, nameof(runningVar), $"C of x");
        Guard.Length(savedMean.Length, s.C, nameof(savedMean), $"C of x");
        Guard.Length(savedInvStd.Length, s.C, nameof(savedInvStd), $"C of x");
        Guard.NoPartialOverlap(y.Span, x.Span, nameof(y), nameof(x));
    }

    internal static void ValidateInference<T>(ReadOnlyNchwSpan<T> x, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta, ReadOnlySpan<T> runningMean,
        ReadOnlySpan<T> runningVar, double epsilon, ReadOnlyNchwSpan<T> y)
    {
        if (!(epsilon > 0) || !double.IsFinite(epsilon)) Guard.ThrowOutOfRange(nameof(epsilon), epsilon, $"epsilon must be a " +
            $"finite number > 0 but is {epsilon}.");
        Guard.Shape(y.Shape, x.Shape, nameof(y), $"x");
        ValidateChannels(x.Shape.C, gamma, beta);
        Guard.Length(runningMean.Length, x.Shape.C, nameof(runningMean), $"C of x");
        Guard.Length(runningVar.Length, x.Shape.C, nameof(runningVar), $"C of x");
        Guard.NoPartialOverlap(y.Span, x.Span, nameof(y), nameof(x));
    }

    internal static void ValidateBackward<T>(ReadOnlyNchwSpan<T> dout, ReadOnlyNchwSpan<T> x, ReadOnlySpan<T> gamma, ReadOnlySpan<T> savedMean,
        ReadOnlySpan<T> savedInvStd, ReadOnlyNchwSpan<T> dx, ReadOnlySpan<T> dgamma, ReadOnlySpan<T> dbeta)
    {
        Shape4 s = x.Shape;
        Guard.Shape(dout.Shape, s, nameof(dout), $"x");
        Guard.Shape(dx.Shape, s, nameof(dx), $"x");
        Guard.Length(gamma.Length, s.C, nameof(gamma), $"C of x");
        Guard.Length(savedMean.Length, s.C, nameof(savedMean), $"C of x");
        Guard.Length(savedInvStd.Length, s.C, nameof(savedInvStd), $"C of x");
        Guard.Length(dgamma.Length, s.C, nameof(dgamma), $"C of x");
        Guard.Length(dbeta.Length, s.C, nameof(dbeta), $"C of x");
        Guard.NoPartialOverlap(dx.Span, dout.Span, nameof(dx), nameof(dout));
        Guard.NoPartialOverlap(dx.Span, x.Span, nameof(dx), nameof(x));
    }

    private static void ValidateChannels<T>(int channels, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta)
    {
        Guard.Length(gamma.Length, channels, nameof(gamma), $"C of x");
        Guard.Length(beta.Length, channels, nameof(beta), $"C of x");
    }
}
