using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Exporters.Csv;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;
using Perfolizer.Metrology;
using Kernels.Benchmarks;
using Kernels.Benchmarks.Report;
using Kernels.Benchmarks.Convolution;

// `--report [RESULTS_DIR] [OUT.md]` turns the CSV exports of a run into docs/performance.md.
if (args.Length > 0 && args[0] == "--report")
{
    string results = args.Length > 1 ? args[1] : Path.Combine("BenchmarkDotNet.Artifacts", "results");
    string output = args.Length > 2 ? args[2] : Path.Combine("docs", "performance.md");
    PerformanceReport.Write(results, output);
    Console.WriteLine($"wrote {output}");
    return;
}

// `--profile MODEL.onnx [BATCH] [THREADS] [RUNS]`: our per-node profile beside ONNX Runtime's for the same model.
if (args.Length > 1 && args[0] == "--profile")
{
    int Arg(int i, int fallback) => args.Length > i ? int.Parse(args[i], CultureInfo.InvariantCulture) : fallback;
    Kernels.Benchmarks.Onnx.ProfileCommand.Run(args[1], Arg(2, 1), Arg(3, 1), Arg(4, 20), Console.Out);
    return;
}

// `--conv N,C,H,W,F,KH,KW,STRIDE,PAD` (repeatable): the user's own convolution shapes, every algorithm against the
// peers at 1 and 2 threads, then one ratio table.
string[] convArgs = args.Select((a, i) => a == "--conv" && i + 1 < args.Length ? args[i + 1] : null).OfType<string>().ToArray();
if (convArgs.Length > 0)
{
    foreach (string shape in convArgs) UserShapes.Parse(shape); // fail fast on a typo
    Environment.SetEnvironmentVariable(UserShapes.Variable, string.Join(';', convArgs));
    args = args.Where((a, i) => a != "--conv" && (i == 0 || args[i - 1] != "--conv")).Concat(["--anyCategories", "UserConv"]).ToArray();
}

// `--models`: the torchvision classifiers against ONNX Runtime (ZooModelBenchmarks).
if (args.Contains("--models")) args = [.. args.Where(a => a != "--models"), "--anyCategories", "Zoo"];

// The jobs are in RunJobs: out of process by default, `--quick` for a short in-process one (a first look in minutes);
// every other argument goes to BenchmarkSwitcher (--filter, --anyCategories, --job, ...). With no filter, all run.
bool quick = args.Contains("--quick");
string[] rest = args.Where(a => a != "--quick").ToArray();
if (!rest.Any(a => a is "--filter" or "-f" or "--anyCategories" or "--allCategories" or "--list" or "--help" or "-h" or "--info"))
    rest = [.. rest, "--filter", "*"];

// Plain numbers in the CSV (milliseconds, kilobytes) so the report step can read them back.
var csv = new CsvExporter(CsvSeparator.Comma, new SummaryStyle(CultureInfo.InvariantCulture, printUnitsInHeader: true, sizeUnit: SizeUnit.KB,
    timeUnit: TimeUnit.Millisecond, printUnitsInContent: false));
IConfig config = DefaultConfig.Instance
    .AddDiagnoser(MemoryDiagnoser.Default)
    .AddColumn(StatisticColumn.Median)   // BenchmarkDotNet shows it only for skewed samples otherwise; the report quotes medians
    .AddColumn(StatisticColumn.Min)      // the jitter column: median / best
    .AddExporter(MarkdownExporter.GitHub, csv, JsonExporter.Full)
    .WithOptions(ConfigOptions.JoinSummary);
RunJobs.Quick = quick;
Job job = RunJobs.Main;
if (convArgs.Length > 0) job = job.WithEnvironmentVariables(new EnvironmentVariable(UserShapes.Variable, string.Join(';', convArgs)));
config = config.AddJob(job.AsDefault());

IEnumerable<Summary> summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(rest, config);
if (convArgs.Length > 0) UserConvTable.Print(summaries, Console.Out);
