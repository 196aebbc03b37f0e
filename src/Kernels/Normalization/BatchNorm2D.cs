using System.Numerics.Tensors;
using Kernels.Elementwise;
using Kernels.Normalization;
using Kernels.Simd;

namespace Kernels;

/// <summary>
/// Spatial batch normalization (PyTorch's <c>BatchNorm2d</c>) with the semantics of <see cref="Reference.BatchNorm2D"/>:
/// x (N, C, H, W) normalized per channel over its M = N*H*W values. Channels run in parallel, each on one thread
/// in a fixed order, so results do not depend on the thread count.
/// <para>Statistics by the corrected two-pass algorithm: a float mean m0 first, then <c>sum (x - m0)</c> and
/// <c>sum (x - m0)^2</c> (<see cref="PlaneSums"/>), so a mean of 1e4 with a spread of 1 keeps the variance's digits
/// (E[x^2] - E[x]^2 would lose all of them). y is <c>((x - mHi) - mLo) * scale + beta</c> with the mean split into
/// two floats and <c>scale = gamma * invStd</c>: x - mHi is exact near the mean, so no digit of x cancels away.</para>
/// </summary>
public static unsafe class BatchNorm2D
{
    /// <summary>Training forward; see <see cref="Reference.BatchNorm2D.ForwardTraining{T}"/> for the formulas and shapes.</summary>
    /// <param name="x">Input (N, C, H, W); N*H*W must be at least 2.</param>
    /// <param name="gamma">Scale, length C.</param>
    /// <param name="beta">Shift, length C.</param>
    /// <param name="p">Epsilon and momentum.</param>
    /// <param name="y">Output (N, C, H, W); may be the same memory as x.</param>
    /// <param name="runningMean">Running mean, length C, updated in place.</param>
    /// <param name="runningVar">Running unbiased variance, length C, updated in place.</param>
    /// <param name="savedMean">Batch mean, length C (written).</param>
    /// <param name="savedInvStd">Batch <c>1 / sqrt(var + eps)</c>, length C (written).</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void ForwardTraining(ReadOnlyNchwSpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, BatchNormParams p,
        NchwSpan<float> y, Span<float> runningMean, Span<float> runningVar, Span<float> savedMean, Span<float> savedInvStd,
        int maxDegreeOfParallelism = 1)
    {
        Reference.BatchNorm2D.ValidateTraining(x, gamma, beta, p, y, runningMean, runningVar, savedMean, savedInvStd);
        int degree = Parallelism.Resolve(maxDegreeOfParallelism);
        fixed (float* px = x.Span, py = y.Span, pg = gamma, pb = beta, prm = runningMean, prv = runningVar, psm = savedMean, psi = savedInvStd)
        {
            var channels = new Training(px, py, x.Shape, pg, pb, p, prm, prv, psm, psi);
            Parallelism.For(x.Shape.C, Threads(degree, x.Shape), channels);
        }
    }

    /// <summary>Inference with running statistics; see <see cref="Reference.BatchNorm2D.ForwardInference{T}"/>.</summary>
    /// <param name="x">Input (N, C, H, W).</param>
    /// <param name="gamma">Scale, length C.</param>
    /// <param name="beta">Shift, length C.</param>
    /// <param name="runningMean">Mean, length C.</param>
    /// <param name="runningVar">Variance, length C.</param>
    /// <param name="epsilon">Added to the variance (&gt; 0, finite).</param>
    /// <param name="y">Output (N, C, H, W); may be the same memory as x.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void ForwardInference(ReadOnlyNchwSpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta,
        ReadOnlySpan<float> runningMean, ReadOnlySpan<float> runningVar, double epsilon, NchwSpan<float> y, int maxDegreeOfParallelism = 1)
    {
        Reference.BatchNorm2D.ValidateInference(x, gamma, beta, runningMean, runningVar, epsilon, y);
        int degree = Parallelism.Resolve(maxDegreeOfParallelism);
        fixed (float* px = x.Span, py = y.Span, pg = gamma, pb = beta, prm = runningMean, prv = runningVar)
            Parallelism.For(x.Shape.C, Threads(degree, x.Shape), new Inference(px, py, x.Shape, pg, pb, prm, prv, epsilon));
    }

    /// <summary>
    /// Backward by the fused formula <c>dx = gamma invStd (dout - dbeta / M - xhat dgamma / M)</c> with
    /// <c>dbeta = sum dout</c>, <c>dgamma = sum dout xhat</c>, <c>xhat = (x - mean) invStd</c>; the same values as
    /// <see cref="Reference.BatchNorm2D.Backward{T}"/>'s stages.
    /// </summary>
    /// <param name="dout">Upstream gradient (N, C, H, W).</param>
    /// <param name="x">The forward input.</param>
    /// <param name="gamma">Scale, length C.</param>
    /// <param name="savedMean">The forward pass's batch mean, length C.</param>
    /// <param name="savedInvStd">The forward pass's <c>1 / sqrt(var + eps)</c>, length C.</param>
    /// <param name="dx">Gradient of x (N, C, H, W); may be the same memory as dout or x.</param>
    /// <param name="dgamma">Gradient of gamma, length C (overwritten).</param>
    /// <param name="dbeta">Gradient of beta, length C (overwritten).</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Backward(ReadOnlyNchwSpan<float> dout, ReadOnlyNchwSpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> savedMean,
        ReadOnlySpan<float> savedInvStd, NchwSpan<float> dx, Span<float> dgamma, Span<float> dbeta, int maxDegreeOfParallelism = 1)
    {
        Reference.BatchNorm2D.ValidateBackward(dout, x, gamma, savedMean, savedInvStd, dx, dgamma, dbeta);
        int degree = Parallelism.Resolve(maxDegreeOfParallelism);
        fixed (float* pd = dout.Span, px = x.Span, pdx = dx.Span, pg = gamma, psm = savedMean, psi = savedInvStd, pdg = dgamma, pdb = dbeta)
            Parallelism.For(x.Shape.C, Threads(degree, x.Shape), new Gradients(pd, px, pdx, x.Shape, pg, psm, psi, pdg, pdb));
    }

    /// <summary>At least 32K elements (one channel of 8 x 64 x 64) per thread: below, a fork-join costs more than it saves.</summary>
    private static int Threads(int degree, Shape4 x) => Threading.Partition.Threads(degree, x.Length, 1 << 15);

    private static ReadOnlySpan<float> Plane(float* p, Shape4 s, int n, int c) => new(p + ((long)n * s.C + c) * s.PlaneLength, s.PlaneLength);
    private static Span<float> WritablePlane(float* p, Shape4 s, int n, int c) => new(p + ((long)n * s.C + c) * s.PlaneLength, s.PlaneLength);

    /// <summary>y = ((x - mHi) - mLo) * scale + beta over one plane.</summary>
    private static void Normalize(float* x, float* y, Shape4 s, int c, double mean, double scale, float beta)
    {
        float hi = (float)mean;
        var op = new NormalizeOp(hi, (float)(mean - hi), (float)scale, beta);
        for (int n = 0; n < s.N; n++) ElementwiseDriver.Unary(Plane(x, s, n, c), WritablePlane(y, s, n, c), 1, op);
    }

    private readonly struct Training(float* x, float* y, Shape4 s, float* gamma, float* beta, BatchNormParams p,
        float* runningMean, float* runningVar, float* savedMean, float* savedInvStd) : IIndexAction
    {
        public void Invoke(int c)
        {
            long m = (long)s.N * s.PlaneLength;
            double sum = 0;
            for (int n = 0; n < s.N; n++) sum += TensorPrimitives.Sum(Plane(x, s, n, c));
            float shift = (float)(sum / m);
            double offset = 0, squares = 0;
            for (int n = 0; n < s.N; n++)
            {
                (double d1, double d2) = PlaneSums.Centered(Plane(x, s, n, c), shift);
                offset += d1;
                squares += d2;
            }
            // The corrected two-pass formulas: the mean's correction and the variance about the exact mean.
            double mean = shift + offset / m, variance = Math.Max(0, squares / m - (offset / m) * (offset / m));
            double invStd = 1 / Math.Sqrt(variance + p.Epsilon);
            savedMean[c] = (float)mean;
            savedInvStd[c] = (float)invStd;
            runningMean[c] = (float)((1 - p.Momentum) * runningMean[c] + p.Momentum * mean);
            runningVar[c] = (float)((1 - p.Momentum) * runningVar[c] + p.Momentum * variance * m / (m - 1));
            Normalize(x, y, s, c, mean, gamma[c] * invStd, beta[c]);
        }
    }

    private readonly struct Inference(float* x, float* y, Shape4 s, float* gamma, float* beta, float* runningMean, float* runningVar, double eps)
        : IIndexAction
    {
        public void Invoke(int c) => Normalize(x, y, s, c, runningMean[c], gamma[c] / Math.Sqrt(runningVar[c] + eps), beta[c]);
    }

    private readonly struct Gradients(float* dout, float* x, float* dx, Shape4 s, float* gamma, float* savedMean, float* savedInvStd,
        float* dgamma, float* dbeta) : IIndexAction
    {
        public void Invoke(int c)
        {
            long m = (long)s.N * s.PlaneLength;
            float mean = savedMean[c];
            double invStd = savedInvStd[c], sumDout = 0, sumDoutCentered = 0, sumCentered = 0;
            for (int n = 0; n < s.N; n++)
            {
                (double d1, double d2, double d3) = PlaneSums.CenteredDot(Plane(dout, s, n, c), Plane(x, s, n, c), mean);
                sumDout += d1;
                sumDoutCentered += d2;
                sumCentered += d3;
            }
            // The saved mean is the batch mean rounded to float; for a mean of 1e4 that rounding (up to 5e-4) can be
            // a good part of the spread. delta = sum (x - mean) / M restores the exact mean, so the gradient is that
            // of the forward pass actually computed (which normalized about the exact mean).
            double delta = sumCentered / m;
            double dg = (sumDoutCentered - delta * sumDout) * invStd, k = gamma[c] * invStd, c2 = -k * invStd * dg / m;
            // dx = k dout + ((x - mean) - delta) c2 + c3: the per-element work is two fused multiply-adds.
            var op = new GradientOp(mean, (float)k, (float)c2, (float)(-k * sumDout / m - delta * c2));
            for (int n = 0; n < s.N; n++) ElementwiseDriver.Binary(Plane(x, s, n, c), Plane(dout, s, n, c), WritablePlane(dx, s, n, c), 1, op);
            dgamma[c] = (float)dg;
            dbeta[c] = (float)sumDout;
        }
    }

    private readonly struct NormalizeOp(float meanHi, float meanLo, float scale, float beta) : IUnaryOp
    {
        public TVec Invoke<TVec, TOps>(TVec x) where TVec : struct where TOps : IVectorOps<TVec> =>
            TOps.MultiplyAdd(TOps.Subtract(TOps.Subtract(x, TOps.Broadcast(meanHi)), TOps.Broadcast(meanLo)), TOps.Broadcast(scale), TOps.Broadcast(beta));
    }

    private readonly struct GradientOp(float mean, float k, float c2, float c3) : IBinaryOp
    {
        public TVec Invoke<TVec, TOps>(TVec x, TVec dout) where TVec : struct where TOps : IVectorOps<TVec> =>
            TOps.MultiplyAdd(dout, TOps.Broadcast(k), TOps.MultiplyAdd(TOps.Subtract(x, TOps.Broadcast(mean)), TOps.Broadcast(c2), TOps.Broadcast(c3)));
    }
}
