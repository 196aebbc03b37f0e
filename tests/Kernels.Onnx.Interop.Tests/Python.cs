using System.ComponentModel;
using System.Diagnostics;
using Xunit.Sdk;

namespace Kernels.Onnx.Interop.Tests;

/// <summary>What a Python run gave: its exit code and everything it printed.</summary>
public sealed record PythonResult(int ExitCode, string Stdout, string Stderr);

/// <summary>
/// A Python interpreter that imports the modules a test needs: $KERNELS_PYTHON when set, else the first of python3 on
/// PATH and Debian's /usr/bin/python3 (where apt's python3-* packages install) that imports them all. When none does,
/// the test fails saying what to install: these tests never pass without having run.
/// </summary>
public sealed class Python
{
    private static readonly TimeSpan ImportTimeout = TimeSpan.FromMinutes(1);
    private static readonly Dictionary<string, Python> Found = [];

    private Python(string interpreter) => Interpreter = interpreter;

    /// <summary>The interpreter's command or path.</summary>
    public string Interpreter { get; }

    /// <summary>An interpreter that imports every one of <paramref name="modules"/>; throws <see cref="XunitException"/> naming what to install.</summary>
    public static Python With(params string[] modules)
    {
        string key = string.Join(", ", modules);
        lock (Found)
        {
            if (Found.TryGetValue(key, out Python? python)) return python;
            var tried = new List<string>();
            foreach (string candidate in Candidates())
            {
                PythonResult r;
                try { r = Start(candidate, ["-c", $"import {key}"], ImportTimeout); }
                catch (Win32Exception e) { tried.Add($"{candidate}: cannot start ({e.Message})"); continue; }
                if (r.ExitCode == 0) return Found[key] = new Python(candidate);
                tried.Add($"{candidate}: {r.Stderr.Trim().Split('\n')[^1]}");
            }
            string packages = string.Join(" ", modules.Select(m => $"python3-{m}"));
            throw new XunitException($"No Python interpreter imports {key}; these tests need it. Tried: {string.Join("; ", tried)}. "
                + $"Install Debian's packages (apt-get install -y python3 {packages}) or set KERNELS_PYTHON to a python3 that imports {key}.");
        }
    }

    /// <summary>
    /// Runs <paramref name="script"/> (a path, relative ones from the test binaries' folder, where the project copies its
    /// *.py) with <paramref name="arguments"/>; throws <see cref="TimeoutException"/> after killing it when it outlives
    /// <paramref name="timeout"/>.
    /// </summary>
    public PythonResult Run(string script, IEnumerable<string> arguments, TimeSpan timeout) =>
        Start(Interpreter, [Path.Combine(AppContext.BaseDirectory, script), .. arguments], timeout);

    private static IEnumerable<string> Candidates()
    {
        if (Environment.GetEnvironmentVariable("KERNELS_PYTHON") is { Length: > 0 } chosen)
        {
            yield return chosen; // the user's choice, never second-guessed
            yield break;
        }
        yield return "python3";
        if (File.Exists("/usr/bin/python3")) yield return "/usr/bin/python3";
    }

    private static PythonResult Start(string interpreter, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(interpreter) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in arguments) start.ArgumentList.Add(a);
        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1"; // no __pycache__ beside the copied scripts
        using Process process = Process.Start(start) ?? throw new Win32Exception($"{interpreter} did not start.");
        // Both pipes drain concurrently, so a chatty script cannot block on a full pipe while we wait on the other.
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(), stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"{interpreter} {string.Join(" ", arguments)} ran longer than {timeout}; killed. Stderr: {stderr.Result}");
        }
        return new PythonResult(process.ExitCode, stdout.Result, stderr.Result);
    }
}
