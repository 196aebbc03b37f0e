using System.Numerics;
using CommunityToolkit.HighPerformance;

namespace Kernels.Nn;

/// <summary>
/// The layer kernels a model runs on. <see cref="FastKernels"/> (float, SIMD) trains; <see cref="ReferenceKernels{T}"/>
/// (the oracles, float or double) gives double-precision gradient checks of whole models and the speed baseline.
/// Every method has the shapes and semantics of the same-named kernel in <c>Kernels.Reference</c>.
/// </summary>
public interface IKernelSet<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Threads each kernel may use (the layers' own element-wise work, such as L2 regularisation, uses it too).</summary>
    int MaxDegreeOfParallelism => 1;

    /// <summary>See <see cref="Reference.Conv2D.Forward{T}"/>.</summary>
    void ConvForward(ReadOnlyNchwSpan<T> x, ReadOnlyNchwSpan<T> w, ReadOnlySpan<T> b, Conv2DParams p, NchwSpan<T> y);
    /// <summary>See <see cref="Reference.Conv2D.Backward{T}"/>.</summary>
    void ConvBackward(ReadOnlyNchwSpan<T> dout, ReadOnlyNchwSpan<T> x, ReadOnlyNchwSpan<T> w, Conv2DParams p, NchwSpan<T> dx, NchwSpan<T> dw, Span<T> db);
    /// <summary>As the other overload, with an algorithm choice; kernel sets with a single algorithm ignore it.</summary>
    void ConvForward(ReadOnlyNchwSpan<T> x, ReadOnlyNchwSpan<T> w, ReadOnlySpan<T> b, Conv2DParams p, NchwSpan<T> y, Conv2DAlgorithm algorithm) =>
        ConvForward(x, w, b, p, y);
    /// <summary>As the other overload, with an algorithm choice for dx; kernel sets with a single algorithm ignore it.</summary>
    void ConvBackward(ReadOnlyNchwSpan<T> dout, ReadOnlyNchwSpan<T> x, ReadOnlyNchwSpan<T> w, Conv2DParams p, NchwSpan<T> dx, NchwSpan<T> dw, Span<T> db,
        Conv2DAlgorithm algorithm) => ConvBackward(dout, x, w, p, dx, dw, db);
    /// <summary>See <see cref="Reference.MaxPool2D.Forward{T}"/>.</summary>
    void MaxPoolForward(ReadOnlyNchwSpan<T> x, Pool2DParams p, NchwSpan<T> y);
    /// <summary>See <see cref="Reference.MaxPool2D.Backward{T}"/>.</summary>
    void MaxPoolBackward(ReadOnlyNchwSpan<T> dout, ReadOnlyNchwSpan<T> x, Pool2DParams p, NchwSpan<T> dx);
    /// <summary>See <see cref="Reference.AvgPool2D.Forward{T}"/>.</summary>
    void AvgPoolForward(ReadOnlyNchwSpan<T> x, Pool2DParams p, NchwSpan<T> y);
    /// <summary>See <see cref="Reference.AvgPool2D.Backward{T}"/>.</summary>
    void AvgPoolBackward(ReadOnlyNchwSpan<T> dout, Shape4 xShape, Pool2DParams p, NchwSpan<T> dx);
    /// <summary>See <see cref="Reference.Relu.Forward{T}"/>.</summary>
    void ReluForward(ReadOnlySpan<T> x, Span<T> y);
    /// <summary>See <see cref="Reference.Relu.Backward{T}"/>.</summary>
    void ReluBackward(ReadOnlySpan<T> dout, ReadOnlySpan<T> x, Span<T> dx);
    /// <summary>See <see cref="Reference.Activations.Forward{T}"/> (the oracle unless the set has a fast one).</summary>
    void ActivationForward(Activation f, ReadOnlySpan<T> x, Span<T> y) => Reference.Activations.Forward(f, x, y);
    /// <summary>See <see cref="Reference.Activations.Backward{T}"/>.</summary>
    void ActivationBackward(Activation f, ReadOnlySpan<T> dout, ReadOnlySpan<T> x, Span<T> dx) => Reference.Activations.Backward(f, dout, x, dx);
    /// <summary>See <see cref="Reference.BatchNorm2D.ForwardTraining{T}"/>.</summary>
    void BatchNormForwardTraining(ReadOnlyNchwSpan<T> x, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta, BatchNormParams p, NchwSpan<T> y,
        Span<T> runningMean, Span<T> runningVar, Span<T> savedMean, Span<T> savedInvStd) =>
        Reference.BatchNorm2D.ForwardTraining(x, gamma, beta, p, y, runningMean, runningVar, savedMean, savedInvStd);
    /// <summary>See <see cref="Reference.BatchNorm2D.ForwardInference{T}"/>.</summary>
    void BatchNormForwardInference(ReadOnlyNchwSpan<T> x, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta, ReadOnlySpan<T> runningMean,
        ReadOnlySpan<T> runningVar, double epsilon, NchwSpan<T> y) =>
        Reference.BatchNorm2D.ForwardInference(x, gamma, beta, runningMean, runningVar, epsilon, y);
    /// <summary>See <see cref="Reference.BatchNorm2D.Backward{T}"/>.</summary>
    void BatchNormBackward(ReadOnlyNchwSpan<T> dout, ReadOnlyNchwSpan<T> x, ReadOnlySpan<T> gamma, ReadOnlySpan<T> savedMean,
        ReadOnlySpan<T> savedInvStd, NchwSpan<T> dx, Span<T> dgamma, Span<T> dbeta) =>
        Reference.BatchNorm2D.Backward(dout, x, gamma, savedMean, savedInvStd, dx, dgamma, dbeta);
    /// <summary>See <see cref="Reference.GlobalAvgPool2D.Forward{T}"/>.</summary>
    void GlobalAvgPoolForward(ReadOnlyNchwSpan<T> x, NchwSpan<T> y) => Reference.GlobalAvgPool2D.Forward(x, y);
    /// <summary>See <see cref="Reference.GlobalAvgPool2D.Backward{T}"/>.</summary>
    void GlobalAvgPoolBackward(ReadOnlyNchwSpan<T> dout, NchwSpan<T> dx) => Reference.GlobalAvgPool2D.Backward(dout, dx);
    /// <summary>See <see cref="Reference.Affine.Forward{T}"/>.</summary>
    void AffineForward(ReadOnlySpan2D<T> x, ReadOnlySpan2D<T> w, ReadOnlySpan<T> b, Span2D<T> y);
    /// <summary>See <see cref="Reference.Affine.Backward{T}"/>.</summary>
    void AffineBackward(ReadOnlySpan2D<T> dout, ReadOnlySpan2D<T> x, ReadOnlySpan2D<T> w, Span2D<T> dx, Span2D<T> dw, Span<T> db);
    /// <summary>See <see cref="Reference.Losses.Softmax{T}"/>.</summary>
    T SoftmaxLoss(ReadOnlySpan2D<T> scores, ReadOnlySpan<int> labels, Span2D<T> dscores);
    /// <summary>See <see cref="Reference.Losses.Svm{T}"/>.</summary>
    T SvmLoss(ReadOnlySpan2D<T> scores, ReadOnlySpan<int> labels, Span2D<T> dscores);
    /// <summary>See <see cref="Reference.Losses.MeanSquaredError{T}"/>.</summary>
    T MeanSquaredError(ReadOnlySpan2D<T> pred, ReadOnlySpan2D<T> target, Span2D<T> dpred);
}

/// <summary>The SIMD kernels, with one max degree of parallelism for every call.</summary>
/// <param name="maxDegreeOfParallelism">1: the calling thread only; -1: every core; n: at most n threads. Results do
/// not depend on it.</param>
public sealed class FastKernels(int maxDegreeOfParallelism = 1) : IKernelSet<float>
{
    /// <summary>Threads each kernel may use.</summary>
    public int MaxDegreeOfParallelism { get; } = Parallelism.Resolve(maxDegreeOfParallelism, nameof(maxDegreeOfParallelism));

    /// <inheritdoc/>
    public void ConvForward(ReadOnlyNchwSpan<float> x, ReadOnlyNchwSpan<float> w, ReadOnlySpan<float> b, Conv2DParams p, NchwSpan<float> y) =>
        Conv2D.Forward(x, w, b, p, y, MaxDegreeOfParallelism);
    /// <inheritdoc/>
    public void ConvBackward(ReadOnlyNchwSpan<float> dout, ReadOnlyNchwSpan<float> x, ReadOnlyNchwSpan<float> w, Conv2DParams p, NchwSpan<float> dx, NchwSpan<float> dw, Span<float> db) =>
        Conv2D.Backward(dout, x, w, p, dx, dw, db, MaxDegreeOfParallelism);
    /// <inheritdoc/>
    public void ConvForward(ReadOnlyNchwSpan<float> x, ReadOnlyNchwSpan<float> w, ReadOnlySpan<float> b, Conv2DParams p, NchwSpan<float> y, Conv2DAlgorithm algorithm) =>
        Conv2D.Forward(x, w, b, p, y, MaxDegreeOfParallelism, algorithm);
    /// <inheritdoc/>
    public void ConvBackward(ReadOnlyNchwSpan<float> dout, ReadOnlyNchwSpan<float> x, ReadOnlyNchwSpan<float> w, Conv2DParams p, NchwSpan<float> dx, NchwSpan<float> dw,
        Span<float> db, Conv2DAlgorithm algorithm) => Conv2D.Backward(dout, x, w, p, dx, dw, db, MaxDegreeOfParallelism, algorithm);
    /// <inheritdoc/>
    public void MaxPoolForward(ReadOnlyNchwSpan<float> x, Pool2DParams p, NchwSpan<float> y) => MaxPool2D.Forward(x, p, y, MaxDegreeOfParallelism);
    /// <inheritdoc/>
    public void MaxPoolBackward(ReadOnlyNchwSpan<float> dout, ReadOnlyNchwSpan<float> x, Pool2DParams p, NchwSpan<float> dx) => MaxPool2D.Backward(dout, x, p, dx, MaxDegreeOfParallelism);
    /// <inheritdoc/>
    public void AvgPoolForward(ReadOnlyNchwSpan<float> x, Pool2DParams p, NchwSpan<float> y) => AvgPool2D.Forward(x, p, y, MaxDegreeOfParallelism);
    /// <inheritdoc/>
    public void AvgPoolBackward(ReadOnlyNchwSpan<float> dout, Shape4 xShape, Pool2DParams p, NchwSpan<float> dx) => AvgPool2D.Backward(dout, xShape, p, dx, MaxDegreeOfParallelism);
    /// <inheritdoc/>
    public void ReluForward(ReadOnlySpan<float> x, Span<float> y) => Relu.Forward(x, y, MaxDegreeOfParallelism);
    /// <inheritdoc/>
    public void ReluBackward(ReadOnlySpan<float> dout, ReadOnlySpan<float> x, Span<float> dx) => Relu.Backward(dout, x, dx, MaxDegreeOfParallelism);
    /// <inheritdoc/>
    public void ActivationForward(Activation f, ReadOnlySpan<float> x, Span<float> y) => Activations.Forward(f, x, y, MaxDegreeOfParallelism);
    /// <inheritdoc/>
    public void ActivationBackward(Activation f, ReadOnlySpan<float> dout, ReadOnlySpan<float> x, Span<float> dx) =>
        Activations.Backward(f, dout, x, dx, MaxDegreeOfParallelism);
    /// <inheritdoc/>
    public void BatchNormForwardTraining(ReadOnlyNchwSpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, BatchNormParams p,
        NchwSpan<float> y, Span<float> runningMean, Span<float> runningVar, Span<float> savedMean, Span<float> savedInvStd) =>
        BatchNorm2D.ForwardTraining(x, gamma, beta, p, y, runningMean, runningVar, savedMean, savedInvStd, MaxDegreeOfParallelism);
    /// <inheritdoc/>
    public void BatchNormForwardInference(ReadOnlyNchwSpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta,
        ReadOnlySpan<float> runningMean, ReadOnlySpan<float> runningVar, double epsilon, NchwSpan<float> y) =>
        BatchNorm2D.ForwardInference(x, gamma, beta, runningMean, runningVar, epsilon, y, MaxDegreeOfParallelism);
    /// <inheritdoc/>
    public void BatchNormBackward(ReadOnlyNchwSpan<float> dout, ReadOnlyNchwSpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> savedMean,
        ReadOnlySpan<float> savedInvStd, NchwSpan<float> dx, Span<float> dgamma, Span<float> dbeta) =>
        BatchNorm2D.Backward(dout, x, gamma, savedMean, savedInvStd, dx, dgamma, dbeta, MaxDegreeOfParallelism);
    /// <inheritdoc/>
    public void GlobalAvgPoolForward(ReadOnlyNchwSpan<float> x, NchwSpan<float> y) => GlobalAvgPool2D.Forward(x, y, MaxDegreeOfParallelism);
    /// <inheritdoc/>
    public void GlobalAvgPoolBackward(ReadOnlyNchwSpan<float> dout, NchwSpan<float> dx) => GlobalAvgPool2D.Backward(dout, dx, MaxDegreeOfParallelism);
    /// <inheritdoc/>
    public void AffineForward(ReadOnlySpan2D<float> x, ReadOnlySpan2D<float> w, ReadOnlySpan<float> b, Span2D<float> y) => Affine.Forward(x, w, b, y, MaxDegreeOfParallelism);
    /// <inheritdoc/>
    public void AffineBackward(ReadOnlySpan2D<float> dout, ReadOnlySpan2D<float> x, ReadOnlySpan2D<float> w, Span2D<float> dx, Span2D<float> dw, Span<float> db) =>
        Affine.Backward(dout, x, w, dx, dw, db, MaxDegreeOfParallelism);
    /// <inheritdoc/>
    public float SoftmaxLoss(ReadOnlySpan2D<float> scores, ReadOnlySpan<int> labels, Span2D<float> dscores) => Losses.Softmax(scores, labels, dscores, MaxDegreeOfParallelism);
    /// <inheritdoc/>
    public float SvmLoss(ReadOnlySpan2D<float> scores, ReadOnlySpan<int> labels, Span2D<float> dscores) => Losses.Svm(scores, labels, dscores, MaxDegreeOfParallelism);
    /// <inheritdoc/>
    public float MeanSquaredError(ReadOnlySpan2D<float> pred, ReadOnlySpan2D<float> target, Span2D<float> dpred) => Losses.MeanSquaredError(pred, target, dpred, MaxDegreeOfParallelism);
}

/// <summary>The oracle kernels (textbook loops), for float or double.</summary>
public sealed class ReferenceKernels<T> : IKernelSet<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The shared instance (the oracles keep no state).</summary>
    public static ReferenceKernels<T> Instance { get; } = new();

    /// <inheritdoc/>
    public void ConvForward(ReadOnlyNchwSpan<T> x, ReadOnlyNchwSpan<T> w, ReadOnlySpan<T> b, Conv2DParams p, NchwSpan<T> y) => Reference.Conv2D.Forward(x, w, b, p, y);
    /// <inheritdoc/>
    public void ConvBackward(ReadOnlyNchwSpan<T> dout, ReadOnlyNchwSpan<T> x, ReadOnlyNchwSpan<T> w, Conv2DParams p, NchwSpan<T> dx, NchwSpan<T> dw, Span<T> db) =>
        Reference.Conv2D.Backward(dout, x, w, p, dx, dw, db);
    /// <inheritdoc/>
    public void MaxPoolForward(ReadOnlyNchwSpan<T> x, Pool2DParams p, NchwSpan<T> y) => Reference.MaxPool2D.Forward(x, p, y);
    /// <inheritdoc/>
    public void MaxPoolBackward(ReadOnlyNchwSpan<T> dout, ReadOnlyNchwSpan<T> x, Pool2DParams p, NchwSpan<T> dx) => Reference.MaxPool2D.Backward(dout, x, p, dx);
    /// <inheritdoc/>
    public void AvgPoolForward(ReadOnlyNchwSpan<T> x, Pool2DParams p, NchwSpan<T> y) => Reference.AvgPool2D.Forward(x, p, y);
    /// <inheritdoc/>
    public void AvgPoolBackward(ReadOnlyNchwSpan<T> dout, Shape4 xShape, Pool2DParams p, NchwSpan<T> dx) => Reference.AvgPool2D.Backward(dout, xShape, p, dx);
    /// <inheritdoc/>
    public void ReluForward(ReadOnlySpan<T> x, Span<T> y) => Reference.Relu.Forward(x, y);
    /// <inheritdoc/>
    public void ReluBackward(ReadOnlySpan<T> dout, ReadOnlySpan<T> x, Span<T> dx) => Reference.Relu.Backward(dout, x, dx);
    /// <inheritdoc/>
    public void AffineForward(ReadOnlySpan2D<T> x, ReadOnlySpan2D<T> w, ReadOnlySpan<T> b, Span2D<T> y) => Reference.Affine.Forward(x, w, b, y);
    /// <inheritdoc/>
    public void AffineBackward(ReadOnlySpan2D<T> dout, ReadOnlySpan2D<T> x, ReadOnlySpan2D<T> w, Span2D<T> dx, Span2D<T> dw, Span<T> db) =>
        Reference.Affine.Backward(dout, x, w, dx, dw, db);
    /// <inheritdoc/>
    public T SoftmaxLoss(ReadOnlySpan2D<T> scores, ReadOnlySpan<int> labels, Span2D<T> dscores) => Reference.Losses.Softmax(scores, labels, dscores);
    /// <inheritdoc/>
    public T SvmLoss(ReadOnlySpan2D<T> scores, ReadOnlySpan<int> labels, Span2D<T> dscores) => Reference.Losses.Svm(scores, labels, dscores);
    /// <inheritdoc/>
    public T MeanSquaredError(ReadOnlySpan2D<T> pred, ReadOnlySpan2D<T> target, Span2D<T> dpred) => Reference.Losses.MeanSquaredError(pred, target, dpred);
}
