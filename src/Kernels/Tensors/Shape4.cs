namespace Kernels;

/// <summary>
/// The shape of a dense, row-major NCHW tensor: N images of C channels of H rows of W columns.
/// Every dimension is at least 1 and the element count fits in an <see cref="int"/> (spans are int-indexed).
/// </summary>
public readonly record struct Shape4
{
    /// <summary>Batch size (number of images).</summary>
    public int N { get; }
    /// <summary>Channels per image.</summary>
    public int C { get; }
    /// <summary>Rows per channel.</summary>
    public int H { get; }
    /// <summary>Columns per row.</summary>
    public int W { get; }

    /// <summary>Creates a shape; throws <see cref="ArgumentOutOfRangeException"/> when a dimension is below 1 or N*C*H*W exceeds <see cref="int.MaxValue"/>.</summary>
    public Shape4(int n, int c, int h, int w)
    {
        Guard.AtLeast(n, 1, nameof(n));
        Guard.AtLeast(c, 1, nameof(c));
        Guard.AtLeast(h, 1, nameof(h));
        Guard.AtLeast(w, 1, nameof(w));
        // Multiplied one factor at a time and checked after each: a product of four ints can overflow even a long.
        long count = (long)n * c;
        if (count > int.MaxValue || (count *= h) > int.MaxValue || (count *= w) > int.MaxValue)
            Guard.ThrowOutOfRange(nameof(n), (System.Numerics.BigInteger)n * c * h * w,
                $"shape ({n}, {c}, {h}, {w}) has {(System.Numerics.BigInteger)n * c * h * w} elements but at most {int.MaxValue} fit in a span.");
        (N, C, H, W) = (n, c, h, w);
    }

    /// <summary>N*C*H*W, the number of elements.</summary>
    public int Length => N * C * H * W;

    /// <summary>C*H*W, the elements of one image (the row length when the tensor is read as an N x D matrix).</summary>
    public int ImageLength => C * H * W;

    /// <summary>H*W, the elements of one channel plane.</summary>
    public int PlaneLength => H * W;

    /// <summary>Row-major offset of element (n, c, h, w).</summary>
    public int Offset(int n, int c, int h, int w) => ((n * C + c) * H + h) * W + w;

    /// <summary>Formats as <c>(N, C, H, W)</c>.</summary>
    public override string ToString() => $"({N}, {C}, {H}, {W})";
}
