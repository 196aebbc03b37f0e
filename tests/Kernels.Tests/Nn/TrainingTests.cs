using Kernels.Data;
using Kernels.Nn;

namespace Kernels.Tests.Nn;

/// <summary>Solver, update rules, Sequential stacks and checkpoints on small problems.</summary>
public sealed class TrainingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kernels-training-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Two classes: a bright bar in the left or the right half of an 8x8 image, plus noise.</summary>
    private static LabeledImages Bars(int count, int seed)
    {
        var rng = new Random(seed);
        var t = NchwTensor<float>.Create(new Shape4(count, 1, 8, 8));
        var labels = new int[count];
        for (int n = 0; n < count; n++)
        {
            labels[n] = rng.Next(2);
            for (int h = 0; h < 8; h++)
                for (int w = 0; w < 8; w++)
                    t[n, 0, h, w] = 0.2f * rng.NextSingle() + ((w < 4) == (labels[n] == 0) && w % 4 == 1 ? 1f : 0f);
        }
        return new LabeledImages(t, labels);
    }

    private static Solver<float> TinySolver(UpdateRule<float> rule, int threads, out ThreeLayerConvNet<float> model)
    {
        model = new ThreeLayerConvNet<float>(new FastKernels(threads), new ConvNetOptions(1, 8, 8, Filters: 4, FilterSize: 3, Hidden: 16, Classes: 2, WeightScale: null, Seed: 7));
        return new Solver<float>(model, Bars(200, 1), Bars(50, 2), rule, new SolverOptions(Epochs: 4, BatchSize: 20, LearningRateDecay: 0.9, TrainAccuracySamples: 100, Seed: 3));
    }

    [Fact]
    public void Cancel_stops_between_steps_and_leaves_the_last_completed_steps_parameters()
    {
        Solver<float> solver = TinySolver(new Adam<float>(1e-2), 1, out ThreeLayerConvNet<float> model);
        using var cts = new CancellationTokenSource();
        float[][]? atCancel = null;
        int steps = 0;
        // Step 13 is in epoch 2 (10 steps per epoch), after an epoch whose best parameters a completed run would restore.
        solver.Progress = new SynchronousProgress<TrainingProgress>(_ =>
        {
            if (++steps < 13) return;
            atCancel = model.Parameters.Select(p => p.Value.ToArray()).ToArray();
            cts.Cancel();
        });
        Assert.Throws<OperationCanceledException>(() => solver.Train(cts.Token));
        Assert.Equal(13, steps);
        for (int i = 0; i < atCancel!.Length; i++) Assert.Equal(atCancel[i], model.Parameters[i].Value);
        Assert.Single(solver.History);
    }

    [Fact]
    public async Task TrainAsync_takes_the_same_steps_as_Train()
    {
        Solver<float> sync = TinySolver(new Adam<float>(1e-2), 1, out ThreeLayerConvNet<float> a);
        Solver<float> yielding = TinySolver(new Adam<float>(1e-2), 1, out ThreeLayerConvNet<float> b);
        sync.Train();
        await yielding.TrainAsync();
        Assert.Equal(sync.LossHistory, yielding.LossHistory);
        for (int i = 0; i < a.Parameters.Count; i++) Assert.Equal(a.Parameters[i].Value, b.Parameters[i].Value);
    }

    public static TheoryData<string> Rules => new(["sgd", "momentum", "rmsprop", "adam"]);

    private static UpdateRule<float> Rule(string name) => name switch
    {
        "sgd" => new Sgd<float>(0.1),
        "momentum" => new SgdMomentum<float>(0.05),
        "rmsprop" => new RmsProp<float>(3e-3),
        _ => new Adam<float>(3e-3),
    };

    [Theory, MemberData(nameof(Rules))]
    public void Every_update_rule_learns_the_tiny_problem(string rule)
    {
        Solver<float> solver = TinySolver(Rule(rule), 1, out _);
        var reports = new List<TrainingProgress>();
        solver.Progress = new Collect(reports);
        solver.Train();
        Assert.Equal(4, solver.History.Count);
        Assert.Equal(4 * 10, solver.LossHistory.Count);
        Assert.Equal(4 * 10, reports.Count);
        Assert.True(solver.BestValidationAccuracy >= 0.95, $"{rule}: best validation accuracy {solver.BestValidationAccuracy:P0}");
        Assert.True(solver.History[^1].MeanLoss < solver.History[0].MeanLoss, $"{rule}: loss did not fall");
        Assert.Equal(solver.History[0].LearningRate * 0.9, solver.History[1].LearningRate, 12);
    }

    [Fact]
    public void A_seed_fixes_the_result_for_any_thread_count()
    {
        Solver<float> one = TinySolver(new Adam<float>(3e-3), 1, out ThreeLayerConvNet<float> m1);
        Solver<float> two = TinySolver(new Adam<float>(3e-3), 2, out ThreeLayerConvNet<float> m2);
        one.Train();
        two.Train();
        Assert.Equal(one.LossHistory, two.LossHistory);
        for (int i = 0; i < m1.Parameters.Count; i++) FloatAssert.BitwiseEqual(m1.Parameters[i].Value, m2.Parameters[i].Value, m1.Parameters[i].Name);
    }

    [Fact]
    public void Solver_restores_the_parameters_of_the_best_validation_epoch()
    {
        Solver<float> solver = TinySolver(new Sgd<float>(0.1), 1, out ThreeLayerConvNet<float> model);
        solver.Train();
        Assert.Equal(solver.BestValidationAccuracy, solver.Accuracy(Bars(50, 2)));
    }

    [Fact]
    public void Vgg_style_sequential_stack_overfits_a_few_images()
    {
        var k = new FastKernels();
        var rng = new Random(5);
        var net = new Sequential<float>(k,
            new Conv2DLayer<float>(k, "conv1", 1, 8, 3, 3, new Conv2DParams(1, 1), rng, 0.3),
            new ReluLayer<float>(k),
            new Conv2DLayer<float>(k, "conv2", 8, 8, 3, 3, new Conv2DParams(1, 1), rng, 0.15),
            new ReluLayer<float>(k),
            new MaxPool2DLayer<float>(k, new Pool2DParams(2, 2, 2)),
            new FlattenLayer<float>(),
            new AffineLayer<float>(k, "fc", 8 * 4 * 4, 4, rng, 0.1));
        LabeledImages data = Bars(8, 9);
        for (int i = 0; i < 8; i++) data.Labels[i] = i % 4;     // arbitrary labels: only memorisation fits them
        var rule = new Adam<float>(1e-2);
        for (int step = 0; step < 150; step++)
        {
            net.SoftmaxLoss(data.Images, data.Labels);
            rule.Step(net.Parameters);
        }
        Assert.Equal(8, Solver<float>.CountCorrect(net.Forward(data.Images), data.Labels));
    }

    [Fact]
    public void Keypoint_regressor_fits_synthetic_keypoints_with_mse()
    {
        // Each 10x10 image has one bright 2x2 dot; the target is its centre, scaled to [0, 1].
        var rng = new Random(11);
        int n = 64;
        var x = NchwTensor<float>.Create(new Shape4(n, 1, 10, 10));
        var targets = new float[n * 2];
        for (int i = 0; i < n; i++)
        {
            int r = rng.Next(9), c = rng.Next(9);
            x[i, 0, r, c] = x[i, 0, r + 1, c] = x[i, 0, r, c + 1] = x[i, 0, r + 1, c + 1] = 1f;
            targets[2 * i] = (r + 1) / 10f;
            targets[2 * i + 1] = (c + 1) / 10f;
        }
        var k = new FastKernels();
        var wr = new Random(2);
        var net = new Sequential<float>(k,
            new Conv2DLayer<float>(k, "conv", 1, 8, 3, 3, new Conv2DParams(1, 1), wr, 0.4),
            new ReluLayer<float>(k),
            new AffineLayer<float>(k, "hidden", 8 * 100, 32, wr, 0.05),
            new ReluLayer<float>(k),
            new AffineLayer<float>(k, "out", 32, 2, wr, 0.2));
        var rule = new Adam<float>(3e-3);
        float first = net.MeanSquaredErrorLoss(x, targets), last = first;
        for (int step = 0; step < 300; step++)
        {
            last = net.MeanSquaredErrorLoss(x, targets);
            rule.Step(net.Parameters);
        }
        Assert.True(last < first / 20, $"MSE went from {first} to {last}");
    }

    [Fact]
    public void Checkpoint_round_trip_and_validation()
    {
        var options = new ConvNetOptions(1, 8, 8, Filters: 3, FilterSize: 3, Hidden: 5, Classes: 2, Seed: 1);
        var model = new ThreeLayerConvNet<float>(new FastKernels(), options);
        string path = Path.Combine(_dir, "m.safetensors");
        Safetensors.Save(path, model.Parameters, new Dictionary<string, string> { ["note"] = "test" });

        var other = new ThreeLayerConvNet<float>(new FastKernels(), options with { Seed = 2 });
        IReadOnlyDictionary<string, string> meta = Safetensors.Load(path, other.Parameters);
        Assert.Equal("test", meta["note"]);
        for (int i = 0; i < model.Parameters.Count; i++) FloatAssert.BitwiseEqual(model.Parameters[i].Value, other.Parameters[i].Value, model.Parameters[i].Name);

        // The header is plain JSON that other tools read: check its first entry by hand.
        byte[] bytes = File.ReadAllBytes(path);
        long headerLength = BitConverter.ToInt64(bytes, 0);
        string header = System.Text.Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        Assert.Contains("\"W1\":{\"dtype\":\"F32\",\"shape\":[3,1,3,3],\"data_offsets\":[0,108]}", header);
        Assert.Equal(0, headerLength % 8);

        var wrongShape = new ThreeLayerConvNet<float>(new FastKernels(), options with { Hidden = 6 });
        float[] before = (float[])wrongShape["W2"].Value.Clone();
        var ex = Assert.Throws<InvalidDataException>(() => Safetensors.Load(path, wrongShape.Parameters));
        Assert.Contains("W2", ex.Message);
        Assert.Contains(path, ex.Message);
        Assert.Equal(before, wrongShape["W2"].Value);                 // nothing loaded from a rejected file

        File.WriteAllBytes(path + ".trunc", bytes[..(bytes.Length - 4)]);
        Assert.Contains("offset", Assert.Throws<InvalidDataException>(() => Safetensors.Load(path + ".trunc", other.Parameters)).Message);
        File.WriteAllBytes(path + ".len", [.. BitConverter.GetBytes(long.MaxValue), .. bytes[8..]]);
        Assert.Contains("header length", Assert.Throws<InvalidDataException>(() => Safetensors.Load(path + ".len", other.Parameters)).Message);
        byte[] badJson = (byte[])bytes.Clone();
        badJson[8] = (byte)'[';
        var json = Assert.Throws<InvalidDataException>(() => Safetensors.Load(WriteBytes(path + ".json", badJson), other.Parameters));
        Assert.Contains("expected the header to be a JSON object but found a StartArray token", json.Message);
        Assert.Contains("offset 8", json.Message); // where the array starts
    }

    private static string WriteBytes(string path, byte[] bytes)
    {
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private sealed class Collect(List<TrainingProgress> into) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => into.Add(value);
    }
}
