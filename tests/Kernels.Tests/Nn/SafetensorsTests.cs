using System.Text;
using Kernels.Nn;

namespace Kernels.Tests.Nn;

/// <summary>
/// Checkpoints read strictly by the safetensors format and written only when they will read back, atomically.
/// Each hostile header must be refused with <see cref="InvalidDataException"/> naming the file, the offset and the
/// specific fault (so a test cannot pass on an unrelated error), leaving the parameters untouched.
/// </summary>
public sealed class SafetensorsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kernels-safetensors-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Parameter<float>[] Two() => [new("a", [2], isWeight: true), new("b", [1], isWeight: false)];

    private string File(byte[] header, int dataBytes)
    {
        string path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".safetensors");
        System.IO.File.WriteAllBytes(path, [.. BitConverter.GetBytes((long)header.Length), .. header, .. new byte[dataBytes]]);
        return path;
    }

    public static TheoryData<string, int, string> BadHeaders => new()
    {
        { """{"a": {"dtype": "F32", "shape": ["2"], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}""", 12, "shape holds the string \"2\"" },
        { """{"a": {"dtype": "F32", "shape": [2], "data_offsets": ["0", 8]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}""", 12, "data_offsets holds the string \"0\"" },
        { """{"a": {"dtype": "F32", "shape": [2.5], "data_offsets": [0, 8]}}""", 8, "shape holds the number 2.5" },
        { """{"__metadata__": "x", "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}""", 8, "__metadata__ to be an object" },
        { """{"__metadata__": [1], "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}""", 8, "__metadata__ to be an object" },
        { """{"__metadata__": {"k": 1}}""", 0, "metadata k to be a string" },
        { """{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "a": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}""", 12, "key a appears twice" },
        { """{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}""", 8, "inside the previous tensor" },
        { """{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [12, 16]}}""", 16, "leaving a hole" },
        { """{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}""", 20, "the tensors cover 12 of the 20 data bytes" },
        { """{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 12]}}""", 12, "needs 8" },
        { """{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8], "extra": 1}}""", 8, "unknown key extra" },
        { """{"a": {"dtype": "Q4", "shape": [2], "data_offsets": [0, 8]}}""", 8, "unknown dtype Q4" },
        { """{"a": {"dtype": "F32", "shape": [2], "shape": [2], "data_offsets": [0, 8]}}""", 8, "has shape twice" },
        { """{"a": {"dtype": "F32", "data_offsets": [0, 8]}}""", 8, "lacks shape" },
        { """{"\ud800": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}""", 8, "not valid Unicode" },
        { """{"a": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 8]}}""", 8, "needs 73786976294838206464" },
    };

    [Theory, MemberData(nameof(BadHeaders))]
    public void Headers_that_break_the_format_are_invalid_data_and_load_nothing(string header, int dataBytes, string fault)
    {
        string path = File(Encoding.UTF8.GetBytes(header), dataBytes);
        Parameter<float>[] ps = Two();
        ps[0].Value[0] = 42f;
        var ex = Assert.Throws<InvalidDataException>(() => Safetensors.Load(path, ps));
        Assert.Contains(path, ex.Message);
        Assert.Contains("offset", ex.Message);
        Assert.Contains(fault, ex.Message);
        Assert.Equal(42f, ps[0].Value[0]);
    }

    [Fact]
    public void A_tensor_name_that_is_not_utf8_is_invalid_data_at_its_offset()
    {
        byte[] header = [.. "{\""u8, 0xC3, 0x28, .. "\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}"u8];
        string path = File(header, 8);
        var ex = Assert.Throws<InvalidDataException>(() => Safetensors.Load(path, Two()));
        Assert.Contains("at offset 10: header is not valid UTF-8", ex.Message); // 8 + the index of 0xC3
    }

    [Fact]
    public void Save_refuses_duplicate_and_reserved_names_and_leaves_the_old_file()
    {
        string path = Path.Combine(_dir, "m.safetensors");
        Safetensors.Save(path, Two());
        byte[] old = System.IO.File.ReadAllBytes(path);
        Parameter<float>[] dup = [new("a", [2], true), new("a", [3], true)];
        Assert.Contains("names must be unique", Assert.Throws<ArgumentException>(() => Safetensors.Save(path, dup)).Message);
        Parameter<float>[] reserved = [new("__metadata__", [2], true)];
        Assert.Contains("reserves", Assert.Throws<ArgumentException>(() => Safetensors.Save(path, reserved)).Message);
        Parameter<float>[] surrogate = [new("a\ud800", [2], true)];
        Assert.Contains("not valid Unicode", Assert.Throws<ArgumentException>(() => Safetensors.Save(path, surrogate)).Message);
        Assert.Equal(old, System.IO.File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_dir)); // no temporary file left behind
    }

    [Fact]
    public void What_save_writes_reads_back_with_metadata()
    {
        string path = Path.Combine(_dir, "m.safetensors");
        Parameter<float>[] ps = Two();
        ps[0].Value[1] = -3.5f;
        ps[1].Value[0] = float.NaN;
        Safetensors.Save(path, ps, new Dictionary<string, string> { ["epoch"] = "3", ["é"] = "ü" });
        Parameter<float>[] back = Two();
        IReadOnlyDictionary<string, string> meta = Safetensors.Load(path, back);
        Assert.Equal(-3.5f, back[0].Value[1]);
        Assert.True(float.IsNaN(back[1].Value[0]));
        Assert.Equal("ü", meta["é"]);
    }

    /// <summary>
    /// A child process saves a 4 MB checkpoint over an existing one under a 64 KiB file-size limit (ulimit -f), so the
    /// write dies half way (SIGXFSZ or EFBIG): the old checkpoint must be byte-identical afterwards.
    /// </summary>
    [Fact]
    public void A_save_that_dies_half_way_leaves_the_previous_checkpoint_intact()
    {
        if (!OperatingSystem.IsLinux()) return;
        string path = Path.Combine(_dir, "m.safetensors");
        CheckpointChildSaveInProcess(path, 100);
        byte[] old = System.IO.File.ReadAllBytes(path);
        ChildProcess.Result r = ChildProcess.Run(["save-checkpoint", path, "1000000"], shellPrefix: "ulimit -f 64;");
        Assert.True(r.ExitCode != 0, $"the limited write should have failed: {r}");
        Assert.Equal(old, System.IO.File.ReadAllBytes(path));
        // Without the limit the same child replaces it completely.
        ChildProcess.Result ok = ChildProcess.Run(["save-checkpoint", path, "1000000"]);
        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Equal(8 + 4_000_000, System.IO.File.ReadAllBytes(path).Length - HeaderLength(path));
    }

    private static void CheckpointChildSaveInProcess(string path, int floats) => CheckpointChild.Save(path, floats);

    private static long HeaderLength(string path) => BitConverter.ToInt64(System.IO.File.ReadAllBytes(path), 0);
}

/// <summary>What the child process of the atomic-save test runs: one parameter of the given length, saved.</summary>
public static class CheckpointChild
{
    public static void Save(string path, int floats)
    {
        var p = new Parameter<float>("w", [floats], isWeight: true);
        for (int i = 0; i < floats; i++) p.Value[i] = i;
        Safetensors.Save(path, [p]);
    }
}
