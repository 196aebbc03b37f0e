namespace Kernels.Data;

/// <summary>Images (N, C, H, W) as floats with one class label each.</summary>
public sealed class LabeledImages
{
    /// <summary>Pairs images with labels; their counts must agree.</summary>
    public LabeledImages(NchwTensor<float> images, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        Guard.Length(labels.Length, images.Shape.N, nameof(labels), $"images of shape {images.Shape}");
        (Images, Labels) = (images, labels);
    }

    /// <summary>(N, C, H, W).</summary>
    public NchwTensor<float> Images { get; }
    /// <summary>N labels.</summary>
    public int[] Labels { get; }
    /// <summary>N.</summary>
    public int Count => Labels.Length;

    /// <summary>A copy of images [start, start + count).</summary>
    public LabeledImages Slice(int start, int count)
    {
        if (start < 0 || count < 1 || (long)start + count > Count)
            Guard.ThrowOutOfRange(nameof(count), count, $"slice [{start}, {(long)start + count}) must lie inside [0, {Count}) and hold at least one image.");
        Shape4 s = Images.Shape;
        var images = NchwTensor<float>.Create(new Shape4(count, s.C, s.H, s.W));
        Images.Span.Slice(start * s.ImageLength, count * s.ImageLength).CopyTo(images.Span);
        return new LabeledImages(images, Labels.AsSpan(start, count).ToArray());
    }

    /// <summary>The mean image (C*H*W values), for mean subtraction as in cs231n.</summary>
    public float[] MeanImage()
    {
        int d = Images.Shape.ImageLength;
        var sum = new double[d];
        for (int n = 0; n < Count; n++)
        {
            ReadOnlySpan<float> img = Images.Span.Slice(n * d, d);
            for (int i = 0; i < d; i++) sum[i] += img[i];
        }
        return Array.ConvertAll(sum, v => (float)(v / Count));
    }

    /// <summary>Subtracts <paramref name="mean"/> (C*H*W values) from every image in place.</summary>
    public void SubtractMean(ReadOnlySpan<float> mean)
    {
        int d = Images.Shape.ImageLength;
        Guard.Length(mean.Length, d, nameof(mean), $"images of shape {Images.Shape}");
        for (int n = 0; n < Count; n++)
            System.Numerics.Tensors.TensorPrimitives.Subtract(Images.Span.Slice(n * d, d), mean, Images.Span.Slice(n * d, d));
    }
}
