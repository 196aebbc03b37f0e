using System.Diagnostics;

using Kernels.Simd;

namespace Kernels.Tests;

/// <summary>
/// Runs this test assembly again as a program in a child process (ImageSharp's FeatureTestRunner idea): for work
/// that could crash the process (a crash then fails one test instead of ending the run) and for runs under other
/// runtime switches (ISA flags) or resource limits. The entry point is <see cref="Program.Main"/>.
/// </summary>
public static class ChildProcess
{
    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public override string ToString() => $"exit code {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
    }

    /// <summary>
    /// <c>dotnet Kernels.Tests.dll args...</c> with extra environment variables; with <paramref name="shellPrefix"/>
    /// (e.g. <c>ulimit -f 64;</c>) the command runs under bash after that prefix.
    /// </summary>
    public static Result Run(string[] args, IReadOnlyDictionary<string, string>? environment = null, string? shellPrefix = null, int timeoutSeconds = 300)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        string assembly = typeof(ChildProcess).Assembly.Location;
        var start = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (shellPrefix is null)
        {
            start.FileName = dotnet;
            start.ArgumentList.Add(assembly);
            foreach (string a in args) start.ArgumentList.Add(a);
        }
        else
        {
            start.FileName = "/bin/bash";
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add($"{shellPrefix} exec \"$0\" \"$@\"");
            start.ArgumentList.Add(dotnet);
            start.ArgumentList.Add(assembly);
            foreach (string a in args) start.ArgumentList.Add(a);
        }
        // The parent's ISA switches and expectations must not leak into a child that sets its own.
        foreach (string key in IsaSwitches.Names.Append(Simd.IsaLegTests.ExpectVariable)) start.Environment.Remove(key);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) start.Environment[k] = v;

        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync(), error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeoutSeconds * 1000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"child process {string.Join(' ', args)} ran longer than {timeoutSeconds} s");
        }
        return new Result(process.ExitCode, output.Result, error.Result);
    }
}

/// <summary>The test assembly's entry point when it runs as a child process (see <see cref="ChildProcess"/>).</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        switch (args.FirstOrDefault())
        {
            case "isa-width":
                Console.WriteLine(Isa.Width);
                return 0;
            case "extreme-geometry":
                return Reliability.ExtremeGeometry.RunAll(Console.Out);
            case "scratch-overrun":
                return ScratchOverrun();
            case "save-checkpoint":
                Nn.CheckpointChild.Save(args[1], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
                return 0;
            default:
                Console.Error.WriteLine("usage: Kernels.Tests.dll isa-width | extreme-geometry | scratch-overrun | save-checkpoint PATH FLOATS");
                return 2;
        }
    }

    /// <summary>Takes a guarded scratch buffer and reads one float past it: must die of the fault.</summary>
    private static unsafe int ScratchOverrun()
    {
        Scratch.Guard = Scratch.GuardPlacement.AtEnd;
        float* p = Scratch.Get(Scratch.Role.Columns, 10);
        p[9] = 1f;
        Console.WriteLine("reading past the buffer");
        Console.Out.Flush();
        float beyond = p[10];
        Console.WriteLine($"survived the read ({beyond})");
        return 0;
    }
}
