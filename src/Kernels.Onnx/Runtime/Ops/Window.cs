namespace Kernels.Onnx.Runtime.Ops;

/// <summary>How Conv and the pools place their padding (ONNX auto_pad).</summary>
internal enum AutoPad { NotSet, SameUpper, SameLower, Valid }

/// <summary>Per spatial axis: explicit or automatic padding, resolved for an input size.</summary>
internal readonly record struct AxisPads(int Begin, int End)
{
    /// <summary>SAME_*: the output is ceil(size / stride), the padding split with the odd one at the end (upper) or
    /// start (lower).</summary>
    public static AxisPads Resolve(AutoPad auto, int size, int kernel, int stride, AxisPads explicitPads)
    {
        if (auto is AutoPad.NotSet) return explicitPads;
        if (auto is AutoPad.Valid) return new(0, 0);
        long output = ((long)size + stride - 1) / stride;
        int total = (int)Math.Max(0, (output - 1) * stride + kernel - size); // below kernel: fits an int
        int small = total / 2;
        return auto == AutoPad.SameUpper ? new(small, total - small) : new(total - small, small);
    }

    /// <summary>size + Begin + End in 64 bits (a padded axis longer than an int is refused by the caller).</summary>
    public long Padded(int size) => (long)size + Begin + End;
}

/// <summary>The window attributes Conv and the pools share: strides per axis, pads and auto_pad.</summary>
internal readonly record struct Window(int StrideH, int StrideW, AxisPads H, AxisPads W, AutoPad Auto)
{
    /// <summary>The stride of both axes, where they are equal (the pools need them so).</summary>
    public int Stride => StrideH;

    /// <summary>Reads strides, pads [top, left, bottom, right] and auto_pad; pads must stay below <paramref name="padLimit"/>.</summary>
    public static Window Read(OpContext c, string padLimitReason, long padLimit = int.MaxValue / 4)
    {
        NodeAttributes a = c.Attributes;
        long[] strides = a.Ints("strides") ?? [1, 1];
        if (strides.Length != 2) throw c.Unsupported($"strides has {strides.Length} values; only 2-D windows are supported");
        if (strides[0] is < 1 or > int.MaxValue || strides[1] is < 1 or > int.MaxValue)
            throw c.Malformed($"strides [{strides[0]},{strides[1]}] must be positive and below 2^31");
        long[] pads = a.Ints("pads") ?? [0, 0, 0, 0];
        if (pads.Length != 4) throw c.Malformed($"pads has {pads.Length} values but a 2-D window needs 4");
        if (pads.Any(p => p < 0)) throw a.Unsupported("pads", $"= [{string.Join(",", pads)}] (negative)");
        if (pads.Any(p => p >= padLimit)) throw a.Unsupported("pads", $"= [{string.Join(",", pads)}] ({padLimitReason})");
        AutoPad auto = a.String("auto_pad", "NOTSET") switch
        {
            "NOTSET" or "" => AutoPad.NotSet,
            "SAME_UPPER" => AutoPad.SameUpper,
            "SAME_LOWER" => AutoPad.SameLower,
            "VALID" => AutoPad.Valid,
            string other => throw c.Malformed($"auto_pad '{other}' is not NOTSET, SAME_UPPER, SAME_LOWER or VALID"),
        };
        return new((int)strides[0], (int)strides[1], new((int)pads[0], (int)pads[2]), new((int)pads[1], (int)pads[3]), auto);
    }

    /// <summary>The pads for an input plane of <paramref name="h"/> x <paramref name="w"/> and a kernel spanning
    /// <paramref name="kh"/> x <paramref name="kw"/> (dilated).</summary>
    public (AxisPads H, AxisPads W) Resolve(int h, int w, int kh, int kw) =>
        (AxisPads.Resolve(Auto, h, kh, StrideH, H), AxisPads.Resolve(Auto, w, kw, StrideW, W));
}
