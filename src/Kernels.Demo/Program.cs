using System.Diagnostics;
using Kernels;
using Kernels.Data;
using Kernels.Demo;
using Kernels.Nn;
using Kernels.Onnx;
using Spectre.Console;

(DemoOptions? options, string? error) = DemoOptions.Parse(args);
if (options is null)
{
    Console.Error.WriteLine($"error: {error}");
    return 2;
}
if (options.Help)
{
    Console.WriteLine(DemoOptions.Usage);
    return 0;
}

(LabeledImages train, LabeledImages validation, LabeledImages test, string source) = DemoData.Load(options);
Shape4 shape = train.Images.Shape;
AnsiConsole.MarkupLine($"[bold]Kernels demo[/]: {Markup.Escape(source)}; train {train.Count}, validation {validation.Count}, test {test.Count}; " +
    $"SIMD {Kernels.Simd.Isa.Width}, threads {(options.Threads == -1 ? Environment.ProcessorCount : options.Threads)}");

var convNet = new ConvNetOptions(Channels: shape.C, Height: shape.H, Width: shape.W, Filters: 16, FilterSize: 5, Hidden: 128, Classes: 10,
    WeightScale: null, Reg: 1e-3, Seed: options.Seed);
var kernels = new FastKernels(options.Threads);
var model = new ThreeLayerConvNet<float>(kernels, convNet);

double speedup = DemoData.SpeedupOverReference(convNet, train, options.Batch, kernels);
AnsiConsole.MarkupLine($"One training step (batch {options.Batch}): fast kernels are [bold]{speedup:F1}x[/] faster than the reference kernels.");

UpdateRule<float> rule = options.Update switch
{
    "sgd" => new Sgd<float>(options.LearningRate),
    "momentum" => new SgdMomentum<float>(options.LearningRate),
    "rmsprop" => new RmsProp<float>(options.LearningRate),
    _ => new Adam<float>(options.LearningRate),
};
var solver = new Solver<float>(model, train, validation, rule, new SolverOptions(options.Epochs, options.Batch, LearningRateDecay: 0.8, Seed: options.Seed,
    MaxDegreeOfParallelism: options.Threads));
var table = new Table().AddColumns("epoch", "mean loss", "train acc", "val acc", "lr", "seconds");
var clock = Stopwatch.StartNew();
AnsiConsole.Progress()
    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
    .Start(ctx =>
    {
        ProgressTask task = ctx.AddTask("training", maxValue: options.Epochs);
        solver.Progress = new SynchronousProgress<TrainingProgress>(p =>
        {
            task.Value = p.Epoch - 1 + (double)p.Step / p.StepsPerEpoch;
            task.Description = $"epoch {p.Epoch}/{p.Epochs}  loss {p.Loss:F4}  {p.ImagesPerSecond:F0} img/s";
        });
        solver.EpochCompleted = r => table.AddRow($"{r.Epoch}", $"{r.MeanLoss:F4}", $"{r.TrainAccuracy:P1}", $"{r.ValidationAccuracy:P1}", $"{r.LearningRate:G3}", $"{r.Seconds:F1}");
        solver.Train();
        task.Value = options.Epochs;
    });
double seconds = clock.Elapsed.TotalSeconds;
AnsiConsole.Write(table);
double testAccuracy = solver.Accuracy(test);
AnsiConsole.MarkupLine($"Test accuracy: [bold]{testAccuracy:P2}[/] ({test.Count} images); best validation {solver.BestValidationAccuracy:P2}");
AnsiConsole.MarkupLine($"Training: {seconds:F1} s, {solver.ImagesPerSecond:F0} images/s");

Directory.CreateDirectory(options.Out);
string plot = Path.Combine(options.Out, "training.png"), checkpoint = Path.Combine(options.Out, "threelayerconvnet.safetensors");
try
{
    DemoPlot.Save(plot, solver);
}
catch (Exception ex) when (ex is TypeInitializationException or DllNotFoundException or InvalidOperationException or IOException)
{
    // The plot needs SkiaSharp's native library and a font; training results and the checkpoint do not.
    AnsiConsole.MarkupLine($"[yellow]could not write the plot[/]: {Markup.Escape(ex.Message)}");
    plot = "(no plot)";
}
Safetensors.Save(checkpoint, model.Parameters, new Dictionary<string, string>
{
    ["model"] = "ThreeLayerConvNet", ["input"] = $"{shape.C}x{shape.H}x{shape.W}", ["test_accuracy"] = testAccuracy.ToString("F4", System.Globalization.CultureInfo.InvariantCulture),
});
AnsiConsole.MarkupLine($"Wrote {Markup.Escape(plot)} and {Markup.Escape(checkpoint)} (folder {Markup.Escape(Path.GetFullPath(options.Out))})");
if (options.Onnx is string onnxPath)
{
    // The exported file, read back by Kernels.Onnx, must classify the test set as the trained network does.
    OnnxExport.Save(model, onnxPath);
    var exported = OnnxModel.Load(onnxPath, new OnnxModelOptions { MaxDegreeOfParallelism = options.Threads });
    float[] scores = new float[exported.OutputLength(test.Count)];
    exported.Run(test.Images.Span, scores);
    int correct = 0;
    for (int i = 0; i < test.Count; i++)
        if (System.Numerics.Tensors.TensorPrimitives.IndexOfMax(scores.AsSpan(i * 10, 10)) == test.Labels[i]) correct++;
    AnsiConsole.MarkupLine($"Wrote {Markup.Escape(onnxPath)} ({new FileInfo(onnxPath).Length:N0} bytes, ONNX opset {OnnxExport.Opset}); read back, it scores {(double)correct / test.Count:P2} on the test set");
}
return 0;
