using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Kernels.Data;
using Kernels.Nn;
using Kernels.Tests.Data;

namespace Kernels.Tests.Reliability;

/// <summary>
/// The readers fed garbage, truncations, near-int.MaxValue lengths and bad JSON: they throw
/// <see cref="InvalidDataException"/> (never IndexOutOfRange, OutOfMemory or a hang) and allocate in proportion to
/// the file, not to what its header claims.
/// </summary>
public sealed class HostileFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kernels-hostile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(byte[] bytes, string name = "f")
    {
        string path = Path.Combine(_dir, name + Guid.NewGuid().ToString("N"));
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Runs a reader: success, or InvalidDataException naming the file; anything else fails the property.</summary>
    private static void OnlyInvalidData(Action read, string name)
    {
        try { read(); }
        catch (InvalidDataException ex) { Assert.Contains(name, ex.Message); }
    }

    private static long AllocatedBy(Action read)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        try { read(); } catch (InvalidDataException) { }
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    public static Arbitrary<byte[]> Idxish() => Arb.From(Gen.OneOf(
        ArbMap.Default.GeneratorFor<byte[]>(),
        from rank in Gen.Choose(1, 3)
        from dims in Gen.Choose(1, 200).ArrayOf(rank)
        from cut in Gen.Choose(0, 3000)
        from flip in Gen.Choose(0, 40)
        select Mutate(LoaderTests.IdxBytes(dims, new byte[dims.Aggregate(1, (a, b) => Math.Min(a * b, 4000))]), cut, flip)));

    private static byte[] Mutate(byte[] b, int cut, int flip)
    {
        byte[] c = b[..Math.Min(b.Length, cut)];
        if (c.Length > 0) c[flip % c.Length] ^= 0x5a;
        return c;
    }

    [Property(Arbitrary = [typeof(HostileFileTests)], MaxTest = 300)]
    public void Idx_reader_only_ever_throws_invalid_data(byte[] bytes)
    {
        string path = Write(bytes, "idx");
        OnlyInvalidData(() => Idx.Read(path), path);
        OnlyInvalidData(() => Idx.Read(new MemoryStream([0x1f, 0x8b, .. bytes]), "gz-garbage"), "gz-garbage");
    }

    [Fact]
    public void Idx_truncated_at_every_offset_throws_invalid_data()
    {
        byte[] full = LoaderTests.IdxBytes([3, 4, 5], Enumerable.Range(0, 60).Select(i => (byte)i).ToArray());
        for (int cut = 0; cut < full.Length; cut++)
        {
            var ex = Assert.Throws<InvalidDataException>(() => Idx.Read(new MemoryStream(full[..cut]), "cut"));
            Assert.Contains("offset", ex.Message);
        }
    }

    [Fact]
    public void Huge_declared_sizes_allocate_in_proportion_to_the_file()
    {
        // 2 x 1,000,000,000 bytes declared, 16 bytes present: must fail fast without a gigabyte allocation.
        byte[] header = LoaderTests.IdxBytes([2, 1_000_000_000], []);
        long allocated = AllocatedBy(() => Idx.Read(new MemoryStream([.. header, 1, 2, 3, 4]), "huge"));
        Assert.True(allocated < 1 << 20, $"{allocated} bytes allocated for a {header.Length + 4}-byte file");
        Assert.Throws<InvalidDataException>(() => Idx.Read(new MemoryStream(LoaderTests.IdxBytes([int.MaxValue, int.MaxValue, int.MaxValue], [])), "max"));
    }

    [Property(MaxTest = 200)]
    public void Safetensors_loader_only_ever_throws_invalid_data(byte[] garbage, NonNegativeInt headerLength, bool prefixValid)
    {
        var model = new ThreeLayerConvNet<float>(new FastKernels(), new ConvNetOptions(1, 6, 6, Filters: 2, FilterSize: 3, Hidden: 3, Classes: 2));
        string valid = Path.Combine(_dir, "valid.safetensors");
        Safetensors.Save(valid, model.Parameters);
        byte[] good = File.ReadAllBytes(valid);
        byte[] bytes = prefixValid
            ? [.. good[..Math.Min(good.Length, 8 + headerLength.Get % 200)], .. garbage]              // valid start, then garbage
            : [.. BitConverter.GetBytes((long)headerLength.Get * 977), .. garbage];               // any header length
        string path = Write(bytes, "st");
        float[][] before = model.Parameters.Select(p => (float[])p.Value.Clone()).ToArray();
        try
        {
            Safetensors.Load(path, model.Parameters);
        }
        catch (InvalidDataException ex)
        {
            Assert.Contains(path, ex.Message);
            for (int i = 0; i < before.Length; i++) Assert.Equal(before[i], model.Parameters[i].Value); // untouched on failure
        }
    }

    [Theory]
    [InlineData("{\"W1\": {\"dtype\": \"F32\", \"shape\": [2147483647, 2147483647], \"data_offsets\": [0, 9223372036854775807]}}")]
    [InlineData("{\"W1\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}")]
    [InlineData("{\"W1\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 0]}}")]
    [InlineData("{\"W1\": 5}")]
    [InlineData("[1, 2, 3]")]
    [InlineData("{\"__metadata__\": {\"a\": 1}}")]
    [InlineData("{\"W1\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]")]
    public void Safetensors_bad_headers_are_invalid_data(string header)
    {
        byte[] json = System.Text.Encoding.UTF8.GetBytes(header);
        string path = Write([.. BitConverter.GetBytes((long)json.Length), .. json, .. new byte[8]], "hdr");
        var model = new ThreeLayerConvNet<float>(new FastKernels(), new ConvNetOptions(1, 6, 6, Filters: 2, FilterSize: 3, Hidden: 3, Classes: 2));
        var ex = Assert.Throws<InvalidDataException>(() => Safetensors.Load(path, model.Parameters));
        Assert.Contains(path, ex.Message);
        Assert.Contains("offset", ex.Message);
    }

    [Property(MaxTest = 100)]
    public void Cifar_reader_only_ever_throws_invalid_data(NonNegativeInt records, NonNegativeInt extra, byte label)
    {
        int length = Math.Min(records.Get % 4 * Cifar10.RecordLength + extra.Get % 50, 4 * Cifar10.RecordLength);
        var bytes = new byte[length];
        if (length > 0) bytes[0] = label;
        string path = Write(bytes, "cifar");
        OnlyInvalidData(() => Cifar10.LoadBatch(path), path);
    }
}
