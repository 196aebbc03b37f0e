using Xunit.Sdk;

namespace Kernels.Onnx.Interop.Tests;

/// <summary>onnx.checker (full check, with strict shape inference) over models, through check_models.py in one Python run.</summary>
public static class OnnxChecker
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    /// <summary>The checker's message for each model (by name), null for the models it accepts.</summary>
    public static IReadOnlyDictionary<string, string?> Errors(IReadOnlyList<(string Name, byte[] Model)> models)
    {
        if (models.GroupBy(m => m.Name).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new ArgumentException($"models has the name '{twice.Key}' {twice.Count()} times; names must be unique.", nameof(models));
        Python python = Python.With("onnx");
        string folder = Directory.CreateTempSubdirectory("kernels-onnx-check-").FullName;
        var names = new Dictionary<string, string>();
        for (int i = 0; i < models.Count; i++)
        {
            string path = Path.Combine(folder, $"{i:D4}.onnx");
            File.WriteAllBytes(path, models[i].Model);
            names[path] = models[i].Name;
        }
        PythonResult r;
        try { r = python.Run("check_models.py", names.Keys, Timeout); }
        catch (TimeoutException e) { throw new XunitException($"{e.Message} Models kept in {folder}."); }
        var errors = new Dictionary<string, string?>();
        foreach (string line in r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("ok ", StringComparison.Ordinal) && names.TryGetValue(line[3..], out string? ok)) errors[ok] = null;
            else if (line.StartsWith("FAIL ", StringComparison.Ordinal) && line.IndexOf(": ", 5, StringComparison.Ordinal) is int colon and > 0
                && names.TryGetValue(line[5..colon], out string? failed)) errors[failed] = line[(colon + 2)..];
        }
        // Every model must have its verdict, and the exit code must agree with them, or the script itself broke.
        if (errors.Count != models.Count || r.ExitCode != (errors.Values.Any(e => e is not null) ? 1 : 0))
            throw new XunitException($"check_models.py ({python.Interpreter}) exited with {r.ExitCode} and gave {errors.Count} of {models.Count} verdicts; "
                + $"models kept in {folder}.\nstdout:\n{r.Stdout}\nstderr:\n{r.Stderr}");
        Directory.Delete(folder, recursive: true);
        return errors;
    }

    /// <summary>Fails with the checker's messages unless it accepts every model.</summary>
    public static void Check(IReadOnlyList<(string Name, byte[] Model)> models)
    {
        string[] refused = Errors(models).Where(e => e.Value is not null).Select(e => $"{e.Key}: {e.Value}").ToArray();
        if (refused.Length > 0)
            throw new XunitException($"onnx.checker refuses {refused.Length} of {models.Count} models:\n{string.Join("\n", refused)}");
    }

    public static void Check(string name, byte[] model) => Check([(name, model)]);
}
