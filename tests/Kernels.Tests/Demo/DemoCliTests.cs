using System.Diagnostics;
using Kernels.Demo;

namespace Kernels.Tests.Demo;

public class DemoCliTests
{
    [Theory]
    [InlineData(new[] { "--epochs", "0" }, "--epochs must be a whole number >= 1, not '0'")]
    [InlineData(new[] { "--batch", "x" }, "--batch must be a whole number >= 1, not 'x'")]
    [InlineData(new[] { "--lr", "-1" }, "--lr must be a number > 0, not '-1'")]
    [InlineData(new[] { "--lr", "NaN" }, "--lr must be a number > 0, not 'NaN'")]
    [InlineData(new[] { "--update", "lbfgs" }, "--update must be adam, sgd, momentum or rmsprop, not 'lbfgs'")]
    [InlineData(new[] { "--threads", "0" }, "--threads must be -1 or a whole number >= 1, not '0'")]
    [InlineData(new[] { "--data", "imagenet" }, "--data must be digits or cifar10, not 'imagenet'")]
    [InlineData(new[] { "--data", "cifar10" }, "--data cifar10 needs --path DIR with the CIFAR-10 binary files")]
    [InlineData(new[] { "--path", "/no/such/folder" }, "--path /no/such/folder is not a folder")]
    [InlineData(new[] { "--frobnicate", "1" }, "unknown option --frobnicate (see --help)")]
    [InlineData(new[] { "--epochs" }, "option --epochs needs a value (see --help)")]
    [InlineData(new[] { "stray" }, "unexpected argument 'stray' (see --help)")]
    public void Bad_options_give_one_clear_line(string[] args, string expected)
    {
        (DemoOptions? options, string? error) = DemoOptions.Parse(args);
        Assert.Null(options);
        Assert.Equal(expected, error);
    }

    [Fact]
    public void Good_options_parse()
    {
        (DemoOptions? o, string? error) = DemoOptions.Parse(["--epochs", "3", "--batch", "64", "--lr", "0.01", "--update", "rmsprop", "--threads", "2", "--seed", "9", "--out", "x"]);
        Assert.Null(error);
        Assert.Equal(new DemoOptions { Epochs = 3, Batch = 64, LearningRate = 0.01, Update = "rmsprop", Threads = 2, Seed = 9, Out = "x" }, o);
    }

    [Fact]
    public void The_demo_process_exits_with_code_2_and_one_line_on_a_bad_option()
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "Kernels.Demo.dll");
        var psi = new ProcessStartInfo("dotnet", [dll, "--update", "nope"]) { RedirectStandardError = true, RedirectStandardOutput = true };
        using Process p = Process.Start(psi)!;
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit(60_000);
        Assert.Equal(2, p.ExitCode);
        Assert.Equal("error: --update must be adam, sgd, momentum or rmsprop, not 'nope'", stderr.Trim());
    }
}

public sealed class DemoCifarTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kernels-cifar-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Cifar10_folder_loads_splits_and_subtracts_the_training_mean()
    {
        // Five training batches of 401 records (2005 images: the demo keeps the last 1000 for validation) and a
        // test batch of 10, with random pixels.
        var rng = new Random(3);
        void Batch(string name, int records)
        {
            var bytes = new byte[records * Kernels.Data.Cifar10.RecordLength];
            rng.NextBytes(bytes);
            for (int r = 0; r < records; r++) bytes[r * Kernels.Data.Cifar10.RecordLength] = (byte)(r % 10);
            File.WriteAllBytes(Path.Combine(_dir, name), bytes);
        }
        for (int i = 1; i <= 5; i++) Batch($"data_batch_{i}.bin", 401);
        Batch("test_batch.bin", 10);

        (DemoOptions? o, string? error) = DemoOptions.Parse(["--data", "cifar10", "--path", _dir]);
        Assert.Null(error);
        var (train, validation, test, source) = DemoData.Load(o!);
        Assert.Equal(new Shape4(1005, 3, 32, 32), train.Images.Shape);
        Assert.Equal(1000, validation.Count);
        Assert.Equal(10, test.Count);
        Assert.Contains(_dir, source);
        // After mean subtraction the training set's mean image is zero (up to float rounding).
        Assert.All(train.MeanImage(), m => Assert.InRange(m, -1e-4f, 1e-4f));
    }
}
