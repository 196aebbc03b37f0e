using System.Diagnostics;
using System.Numerics;
using Kernels.Data;

namespace Kernels.Nn;

/// <summary>Training settings (cs231n's solver).</summary>
/// <param name="Epochs">Passes over the training set (&gt;= 1).</param>
/// <param name="BatchSize">Images per step (&gt;= 1).</param>
/// <param name="LearningRateDecay">Factor applied to the learning rate after each epoch, in (0, 1].</param>
/// <param name="TrainAccuracySamples">Training images (a fixed seeded subset) on which accuracy is reported each epoch.</param>
/// <param name="ValidationSamples">Validation images used each epoch (null: all).</param>
/// <param name="Seed">Seed of minibatch sampling and of the accuracy subset.</param>
/// <param name="MaxDegreeOfParallelism">Threads for the update rule's steps (the model's kernels have their own):
/// 1 the calling thread only, -1 every core, n at most n. Results do not depend on it.</param>
public sealed record SolverOptions(int Epochs = 10, int BatchSize = 50, double LearningRateDecay = 1.0, int TrainAccuracySamples = 1000,
    int? ValidationSamples = null, int Seed = 0, int MaxDegreeOfParallelism = 1);

/// <summary>
/// An <see cref="IProgress{T}"/> that calls its action at once on the reporting thread (<see cref="Progress{T}"/>
/// posts to the synchronization context instead, so a console or a single-threaded page would see the reports late).
/// </summary>
/// <param name="report">Called with every report.</param>
public sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    /// <inheritdoc/>
    public void Report(T value) => report(value);
}

/// <summary>Progress after one step.</summary>
public sealed record TrainingProgress(int Epoch, int Epochs, int Step, int StepsPerEpoch, double Loss, double ImagesPerSecond);

/// <summary>Results of one epoch.</summary>
public sealed record EpochResult(int Epoch, double MeanLoss, double TrainAccuracy, double ValidationAccuracy, double LearningRate, double Seconds);

/// <summary>
/// Minibatch training with seeded sampling (a fresh permutation of the training set each epoch), per-epoch
/// learning-rate decay and accuracy checks, keeping the parameters of the best validation accuracy and restoring
/// them at the end. Steps reuse one batch buffer; with deterministic kernels a seed fixes every result.
/// </summary>
public sealed class Solver<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IClassifier<T> _model;
    private readonly LabeledImages _train, _validation;
    private readonly UpdateRule<T> _rule;
    private NchwTensor<T>? _batch;
    private int[] _batchLabels = [];

    /// <summary>Prepares training of <paramref name="model"/> on <paramref name="train"/>, validated on <paramref name="validation"/>.</summary>
    public Solver(IClassifier<T> model, LabeledImages train, LabeledImages validation, UpdateRule<T> rule, SolverOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(validation);
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentNullException.ThrowIfNull(options);
        Guard.AtLeast(options.Epochs, 1, nameof(options.Epochs));
        Guard.AtLeast(options.BatchSize, 1, nameof(options.BatchSize));
        Guard.AtLeast(options.TrainAccuracySamples, 1, nameof(options.TrainAccuracySamples));
        if (!(options.LearningRateDecay > 0 && options.LearningRateDecay <= 1))
            Guard.ThrowOutOfRange(nameof(options.LearningRateDecay), options.LearningRateDecay, $"LearningRateDecay must be in (0, 1] but is {options.LearningRateDecay}.");
        if (options.ValidationSamples is < 1) Guard.ThrowOutOfRange(nameof(options.ValidationSamples), options.ValidationSamples, $"ValidationSamples must be null or >= 1 but is {options.ValidationSamples}.");
        Parallelism.Resolve(options.MaxDegreeOfParallelism, nameof(options.MaxDegreeOfParallelism));
        EnsureDecayKeepsRate(rule.LearningRate, options);
        Shape4 a = train.Images.Shape, b = validation.Images.Shape;
        if ((a.C, a.H, a.W) != (b.C, b.H, b.W)) Guard.Throw(nameof(validation), $"validation images are {b.C}x{b.H}x{b.W} but training images are {a.C}x{a.H}x{a.W}.");
        (_model, _train, _validation, _rule, Options) = (model, train, validation, rule, options);
    }

    /// <summary>The settings.</summary>
    public SolverOptions Options { get; }
    /// <summary>Receives a report after every step.</summary>
    public IProgress<TrainingProgress>? Progress { get; set; }
    /// <summary>Called after every epoch.</summary>
    public Action<EpochResult>? EpochCompleted { get; set; }
    /// <summary>The loss of every step.</summary>
    public List<double> LossHistory { get; } = [];
    /// <summary>Every finished epoch.</summary>
    public List<EpochResult> History { get; } = [];
    /// <summary>The best validation accuracy seen (its parameters are restored at the end of <see cref="Train"/>).</summary>
    public double BestValidationAccuracy { get; private set; } = -1;
    /// <summary>Training images per second, over all steps (accuracy checks excluded).</summary>
    public double ImagesPerSecond { get; private set; }

    /// <summary>
    /// Runs every epoch and ends with the parameters of the epoch with the best validation accuracy. Cancellation
    /// stops between steps with <see cref="OperationCanceledException"/> and leaves the parameters of the last
    /// completed step.
    /// </summary>
    public void Train(CancellationToken cancellation = default)
    {
        foreach (int _ in Steps(cancellation)) { }
    }

    /// <summary>
    /// <see cref="Train"/>, handing the thread back to the caller's synchronization context after every step
    /// (<c>await Task.Yield()</c>): on a browser's single thread the page keeps drawing progress and handling a
    /// Cancel click while it trains. The same steps and results as <see cref="Train"/>.
    /// </summary>
    public async Task TrainAsync(CancellationToken cancellation = default)
    {
        foreach (int _ in Steps(cancellation)) await Task.Yield();
    }

    /// <summary>The training loop, one item per completed step.</summary>
    private IEnumerable<int> Steps(CancellationToken cancellation)
    {
        EnsureDecayKeepsRate(_rule.LearningRate, Options); // the rule's rate may have changed since construction
        var rng = new Random(Options.Seed);
        int n = _train.Count, batch = Math.Min(Options.BatchSize, n), steps = Math.Max(1, n / batch);
        int[] order = Enumerable.Range(0, n).ToArray();
        int[] accuracySubset = Subset(rng, n, Options.TrainAccuracySamples);
        T[][] best = _model.Parameters.Select(p => (T[])p.Value.Clone()).ToArray();
        var stepClock = new Stopwatch();
        long images = 0;
        bool completed = false;
        try
        {
            for (int epoch = 1; epoch <= Options.Epochs; epoch++)
            {
                var epochClock = Stopwatch.StartNew();
                rng.Shuffle(order);
                double lossSum = 0;
                for (int s = 0; s < steps; s++)
                {
                    cancellation.ThrowIfCancellationRequested();
                    stepClock.Start();
                    NchwTensor<T> x = Fill(order.AsSpan(s * batch, batch));
                    double loss = double.CreateChecked(_model.Loss(x, _batchLabels));
                    _rule.Step(_model.Parameters, Options.MaxDegreeOfParallelism);
                    stepClock.Stop();
                    images += batch;
                    lossSum += loss;
                    LossHistory.Add(loss);
                    ImagesPerSecond = images / stepClock.Elapsed.TotalSeconds;
                    Progress?.Report(new TrainingProgress(epoch, Options.Epochs, s + 1, steps, loss, ImagesPerSecond));
                    yield return s;
                }
                double trainAcc = Accuracy(_train, accuracySubset);
                double valAcc = Accuracy(_validation, Options.ValidationSamples is int v ? Enumerable.Range(0, Math.Min(v, _validation.Count)).ToArray() : null);
                if (valAcc > BestValidationAccuracy)
                {
                    BestValidationAccuracy = valAcc;
                    for (int i = 0; i < best.Length; i++) _model.Parameters[i].Value.CopyTo(best[i], 0);
                }
                var result = new EpochResult(epoch, lossSum / steps, trainAcc, valAcc, _rule.LearningRate, epochClock.Elapsed.TotalSeconds);
                History.Add(result);
                EpochCompleted?.Invoke(result);
                _rule.LearningRate *= Options.LearningRateDecay;
            }
            completed = true;
        }
        finally
        {
            // A completed run keeps the best epoch; a cancelled or failed one the last completed step.
            if (completed && BestValidationAccuracy >= 0)
                for (int i = 0; i < best.Length; i++)
                {
                    best[i].CopyTo(_model.Parameters[i].Value, 0);
                    _model.Parameters[i].MarkChanged();
                }
        }
    }

    /// <summary>Fraction of <paramref name="data"/> (or of the given indices) whose highest score is the label.</summary>
    public double Accuracy(LabeledImages data, int[]? indices = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        indices ??= Enumerable.Range(0, data.Count).ToArray();
        int correct = 0;
        for (int start = 0; start < indices.Length; start += Options.BatchSize)
        {
            int count = Math.Min(Options.BatchSize, indices.Length - start);
            NchwTensor<T> x = Fill(indices.AsSpan(start, count), data);
            correct += CountCorrect(_model.Scores(x), _batchLabels);
        }
        return (double)correct / indices.Length;
    }

    /// <summary>How many rows of scores (N, classes) have their maximum at the label (first maximum on ties).</summary>
    public static int CountCorrect(NchwTensor<T> scores, ReadOnlySpan<int> labels)
    {
        var m = scores.ReadOnlyView.AsMatrix();
        int correct = 0;
        for (int i = 0; i < m.Height; i++)
        {
            ReadOnlySpan<T> row = m.GetRowSpan(i);
            int arg = 0;
            for (int j = 1; j < row.Length; j++) if (row[j] > row[arg]) arg = j;
            if (arg == labels[i]) correct++;
        }
        return correct;
    }

    /// <summary>
    /// The rate is multiplied by the decay after every epoch and must stay &gt; 0: a decay such as 1e-200 passes the
    /// (0, 1] check but underflows the rate to 0 after a few epochs. Checked by the same multiplications Train does,
    /// before the first step, instead of failing mid-run.
    /// </summary>
    private static void EnsureDecayKeepsRate(double learningRate, SolverOptions options)
    {
        if (options.LearningRateDecay == 1) return;
        double rate = learningRate;
        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            rate *= options.LearningRateDecay;
            if (!(rate > 0))
                Guard.ThrowOutOfRange(nameof(options.LearningRateDecay), options.LearningRateDecay,
                    $"LearningRateDecay {options.LearningRateDecay} takes the learning rate {learningRate} to {rate} after epoch {epoch} of {options.Epochs}; it must stay > 0.");
        }
    }

    private static int[] Subset(Random rng, int n, int count)
    {
        if (count >= n) return Enumerable.Range(0, n).ToArray();
        int[] all = Enumerable.Range(0, n).ToArray();
        rng.Shuffle(all);
        return all[..count];
    }

    /// <summary>Copies the chosen images (converted to T) and labels into the reused batch buffers.</summary>
    private NchwTensor<T> Fill(ReadOnlySpan<int> indices, LabeledImages? data = null)
    {
        data ??= _train;
        Shape4 s = data.Images.Shape;
        var shape = new Shape4(indices.Length, s.C, s.H, s.W);
        if (_batch is null || _batch.Shape != shape) _batch = NchwTensor<T>.Create(shape);
        if (_batchLabels.Length != indices.Length) _batchLabels = new int[indices.Length];
        int d = s.ImageLength;
        Span<T> dst = _batch.Span;
        ReadOnlySpan<float> src = data.Images.Span;
        for (int i = 0; i < indices.Length; i++)
        {
            ReadOnlySpan<float> img = src.Slice(indices[i] * d, d);
            Span<T> to = dst.Slice(i * d, d);
            if (typeof(T) == typeof(float)) img.CopyTo(System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(to));
            else for (int j = 0; j < d; j++) to[j] = T.CreateChecked(img[j]);
            _batchLabels[i] = data.Labels[indices[i]];
        }
        return _batch;
    }
}
