namespace Kernels.Data;

/// <summary>MNIST-format digits (IDX images and labels) as (N, 1, 28, 28) floats in [0, 1].</summary>
public static class Mnist
{
    /// <summary>Loads an image file and a label file (plain or gzip IDX).</summary>
    public static LabeledImages Load(string imagesPath, string labelsPath)
    {
        using FileStream images = File.OpenRead(imagesPath), labels = File.OpenRead(labelsPath);
        return Load(images, imagesPath, labels, labelsPath);
    }

    /// <summary>Loads from streams; the names appear in error messages.</summary>
    public static LabeledImages Load(Stream images, string imagesName, Stream labels, string labelsName)
    {
        (int[] idims, byte[] pixels) = Idx.Read(images, imagesName);
        (int[] ldims, byte[] labelBytes) = Idx.Read(labels, labelsName);
        if (idims.Length != 3) throw Idx.Bad(imagesName, 3, $"rank {idims.Length} is not 3 (count, rows, columns)");
        if (ldims.Length != 1) throw Idx.Bad(labelsName, 3, $"rank {ldims.Length} is not 1 (count)");
        if (ldims[0] != idims[0]) throw Idx.Bad(labelsName, 4, $"{ldims[0]} labels but {imagesName} holds {idims[0]} images");
        var shape = new Shape4(idims[0], 1, idims[1], idims[2]);
        var tensor = NchwTensor<float>.Create(shape);
        Span<float> dst = tensor.Span;
        for (int i = 0; i < pixels.Length; i++) dst[i] = pixels[i] / 255f;
        var labelInts = new int[labelBytes.Length];
        for (int i = 0; i < labelBytes.Length; i++)
        {
            if (labelBytes[i] > 9) throw Idx.Bad(labelsName, 8 + i, $"label {labelBytes[i]} is not a digit 0-9");
            labelInts[i] = labelBytes[i];
        }
        return new LabeledImages(tensor, labelInts);
    }
}

/// <summary>
/// The CIFAR-10 binary format: records of 1 label byte (0-9) and 3072 pixel bytes (1024 red, 1024 green, 1024
/// blue, each 32x32 row-major), loaded as (N, 3, 32, 32) floats in [0, 1].
/// </summary>
public static class Cifar10
{
    /// <summary>Bytes per record.</summary>
    public const int RecordLength = 1 + 3 * 32 * 32;

    /// <summary>Loads one batch file (e.g. <c>data_batch_1.bin</c>).</summary>
    public static LabeledImages LoadBatch(string path)
    {
        long length = new FileInfo(path).Length;
        if (length == 0 || length % RecordLength != 0)
            throw Idx.Bad(path, length - length % RecordLength, $"file length {length} is not a positive multiple of the {RecordLength}-byte record");
        if (length / RecordLength > int.MaxValue / (3 * 32 * 32))
            throw Idx.Bad(path, 0, $"{length / RecordLength} records are more than one tensor holds");
        byte[] bytes = File.ReadAllBytes(path);
        int n = bytes.Length / RecordLength;
        var tensor = NchwTensor<float>.Create(new Shape4(n, 3, 32, 32));
        var labels = new int[n];
        Span<float> dst = tensor.Span;
        for (int r = 0; r < n; r++)
        {
            int at = r * RecordLength;
            if (bytes[at] > 9) throw Idx.Bad(path, at, $"record {r} has label {bytes[at]}, not a class 0-9");
            labels[r] = bytes[at];
            for (int i = 0; i < RecordLength - 1; i++) dst[r * (RecordLength - 1) + i] = bytes[at + 1 + i] / 255f;
        }
        return new LabeledImages(tensor, labels);
    }

    /// <summary>Loads <c>data_batch_1..5.bin</c> as training data and <c>test_batch.bin</c> as test data from a directory.</summary>
    public static (LabeledImages Train, LabeledImages Test) LoadDirectory(string directory)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"CIFAR-10 directory {directory} does not exist.");
        LabeledImages[] batches = Enumerable.Range(1, 5).Select(i => LoadBatch(Path.Combine(directory, $"data_batch_{i}.bin"))).ToArray();
        int total = batches.Sum(b => b.Count);
        var images = NchwTensor<float>.Create(new Shape4(total, 3, 32, 32));
        var labels = new int[total];
        int at = 0;
        foreach (LabeledImages b in batches)
        {
            b.Images.Span.CopyTo(images.Span.Slice(at * 3072));
            b.Labels.CopyTo(labels, at);
            at += b.Count;
        }
        return (new LabeledImages(images, labels), LoadBatch(Path.Combine(directory, "test_batch.bin")));
    }
}
