using System.Text.Json;

namespace Kernels.Tests;

/// <summary>
/// PyTorch's float64 results from Fixtures/torch_fixtures.json (written by Fixtures/torch_fixtures.py with
/// python3-torch 1.13). A missing file fails the test that asks for it, naming the path.
/// </summary>
public static class TorchFixtures
{
    private static readonly Lazy<JsonDocument> Document = new(() =>
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "torch_fixtures.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"PyTorch fixture missing: {path} (run tests/Kernels.Tests/Fixtures/torch_fixtures.py)", path);
        return JsonDocument.Parse(File.ReadAllBytes(path));
    });

    public static JsonElement Root => Document.Value.RootElement;

    public static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    public static float[] Floats(JsonElement e) => e.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
}
