using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Exporters.Csv;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;

// `--quick` swaps BenchmarkDotNet's default job for a short one (a first look in a few minutes);
// every other argument goes to BenchmarkSwitcher (--filter, --anyCategories, ...). With no filter, --quick runs all.
bool quick = args.Contains("--quick");
string[] rest = args.Where(a => a != "--quick").ToArray();
if (quick && !rest.Any(a => a is "--filter" or "-f" or "--anyCategories" or "--allCategories"))
    rest = [.. rest, "--filter", "*"];

IConfig config = DefaultConfig.Instance
    .AddDiagnoser(MemoryDiagnoser.Default)
    .AddExporter(MarkdownExporter.GitHub, CsvExporter.Default, JsonExporter.Full);
if (quick)
    config = config.AddJob(Job.ShortRun.WithWarmupCount(2).WithIterationCount(5).WithLaunchCount(1).AsDefault());

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(rest, config);
