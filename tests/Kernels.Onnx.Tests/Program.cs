using System.Diagnostics;

namespace Kernels.Onnx.Tests;

/// <summary>
/// The test assembly's entry point when it runs as a child process: <c>load FILE CAP</c> loads a model with
/// MaxActivationFloats = CAP and prints how it ended and the process's peak resident memory, so a test can bound the
/// memory a refused load takes without the test process's own peak in the way.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args is not ["load", string path, string cap]) return 2;
        string outcome;
        try
        {
            OnnxModel.Load(path, new OnnxModelOptions { MaxActivationFloats = long.Parse(cap) });
            outcome = "loaded";
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException)
        {
            outcome = $"refused {e.GetType().Name}";
        }
        Console.WriteLine(outcome);
        Console.WriteLine($"peak {PeakResidentKilobytes()}");
        return 0;
    }

    /// <summary>VmHWM of /proc/self/status: the most resident memory the process has had.</summary>
    public static long PeakResidentKilobytes() =>
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:"))["VmHWM:".Length..].Trim().Split(' ')[0]);
}

/// <summary>Runs this assembly as a child process (<see cref="Program.Main"/>).</summary>
public static class ChildLoad
{
    public static (string Outcome, long PeakKilobytes) Run(string path, long cap)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { typeof(Program).Assembly.Location, "load", path, cap.ToString() }) start.ArgumentList.Add(a);
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync(), error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"loading {path} in a child process took over 120 s");
        }
        string[] lines = output.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(process.ExitCode == 0 && lines.Length == 2, $"child exit code {process.ExitCode}\n{output.Result}\n{error.Result}");
        return (lines[0], long.Parse(lines[1]["peak ".Length..]));
    }
}
