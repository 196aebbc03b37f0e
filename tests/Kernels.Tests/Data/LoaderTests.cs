using System.Buffers.Binary;
using System.IO.Compression;
using Kernels.Data;

namespace Kernels.Tests.Data;

/// <summary>The IDX and CIFAR-10 readers on files the tests write: valid, truncated, corrupt.</summary>
public sealed class LoaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kernels-loaders-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static byte[] IdxBytes(int[] dims, byte[] data)
    {
        var b = new byte[4 + 4 * dims.Length + data.Length];
        b[2] = 0x08;
        b[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(4 + 4 * i), dims[i]);
        data.CopyTo(b, 4 + 4 * dims.Length);
        return b;
    }

    private string Write(string name, byte[] bytes, bool gzip = false)
    {
        string path = Path.Combine(_dir, name);
        if (!gzip) File.WriteAllBytes(path, bytes);
        else
        {
            using var f = File.Create(path);
            using var z = new GZipStream(f, CompressionLevel.Fastest);
            z.Write(bytes);
        }
        return path;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Mnist_round_trip_plain_and_gzip(bool gzip)
    {
        byte[] pixels = Enumerable.Range(0, 3 * 2 * 4).Select(i => (byte)(i * 10)).ToArray();
        string images = Write("img", IdxBytes([3, 2, 4], pixels), gzip), labels = Write("lab", IdxBytes([3], [7, 0, 9]), gzip);
        LabeledImages d = Mnist.Load(images, labels);
        Assert.Equal(new Shape4(3, 1, 2, 4), d.Images.Shape);
        Assert.Equal([7, 0, 9], d.Labels);
        Assert.Equal(230 / 255f, d.Images[2, 0, 1, 3]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Truncated_idx_names_the_file_and_offset(bool gzip)
    {
        byte[] full = IdxBytes([2, 3, 3], new byte[18]);
        string path = Write("short", full[..20], gzip);
        var ex = Assert.Throws<InvalidDataException>(() => Idx.Read(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("offset 20", ex.Message);
        Assert.Contains("4 of the 18 data bytes", ex.Message);
    }

    [Fact]
    public void Corrupt_idx_headers_are_rejected_with_their_offset()
    {
        Assert.Contains("offset 0", Assert.Throws<InvalidDataException>(() => Idx.Read(Write("m", [1, 2, 8, 1, 0, 0, 0, 1, 5]))).Message);
        Assert.Contains("offset 2", Assert.Throws<InvalidDataException>(() => Idx.Read(Write("t", [0, 0, 9, 1, 0, 0, 0, 1, 5]))).Message);
        Assert.Contains("offset 3", Assert.Throws<InvalidDataException>(() => Idx.Read(Write("r", [0, 0, 8, 9]))).Message);
        Assert.Contains("offset 4", Assert.Throws<InvalidDataException>(() => Idx.Read(Write("z", IdxBytes([0], [])))).Message);
        // Declared 2^31-1 x 2^31-1: more than an array holds, refused from the header alone (no allocation).
        var huge = Assert.Throws<InvalidDataException>(() => Idx.Read(Write("h", IdxBytes([int.MaxValue, int.MaxValue], []))));
        Assert.Contains("more than an array holds", huge.Message);
        Assert.Contains("trailing", Assert.Throws<InvalidDataException>(() => Idx.Read(Write("x", [.. IdxBytes([1], [5]), 6]))).Message.Replace("continues past", "trailing"));
    }

    [Fact]
    public void Mnist_rejects_labels_that_are_not_digits_and_count_mismatches()
    {
        string images = Write("i", IdxBytes([2, 1, 1], [0, 0]));
        Assert.Contains("label 12", Assert.Throws<InvalidDataException>(() => Mnist.Load(images, Write("l", IdxBytes([2], [1, 12])))).Message);
        Assert.Contains("3 labels", Assert.Throws<InvalidDataException>(() => Mnist.Load(images, Write("l3", IdxBytes([3], [1, 2, 3])))).Message);
    }

    [Fact]
    public void Cifar10_batch_round_trip_and_errors()
    {
        var record = new byte[Cifar10.RecordLength * 2];
        record[0] = 3;
        record[1 + 1024 + 5] = 255;                      // green plane, row 0, column 5 of image 0
        record[Cifar10.RecordLength] = 9;
        LabeledImages d = Cifar10.LoadBatch(Write("data_batch_1.bin", record));
        Assert.Equal([3, 9], d.Labels);
        Assert.Equal(1f, d.Images[0, 1, 0, 5]);
        Assert.Equal(0f, d.Images[1, 1, 0, 5]);

        var trunc = Assert.Throws<InvalidDataException>(() => Cifar10.LoadBatch(Write("short.bin", record[..(Cifar10.RecordLength + 7)])));
        Assert.Contains($"offset {Cifar10.RecordLength}", trunc.Message);
        record[Cifar10.RecordLength] = 10;
        var label = Assert.Throws<InvalidDataException>(() => Cifar10.LoadBatch(Write("label.bin", record)));
        Assert.Contains($"offset {Cifar10.RecordLength}", label.Message);
        Assert.Contains("label 10", label.Message);
    }
}
