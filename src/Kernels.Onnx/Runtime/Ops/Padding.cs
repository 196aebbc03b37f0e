namespace Kernels.Onnx.Runtime.Ops;

/// <summary>Constant padding of tensors of rank up to 4 (viewed as 4-D with leading 1s): the Pad op, and the padded copies Conv and the pools make for asymmetric or ceil-mode padding.</summary>
internal static class Padding
{
    /// <summary>
    /// dst (dims src + begin + end, cut to <paramref name="dstDims"/>) = <paramref name="value"/> everywhere, with
    /// src copied in at offset <paramref name="begin"/>. Rows that fall past dstDims are dropped (a pool whose last
    /// window ends before the end padding does not need them).
    /// </summary>
    public static void Copy(ReadOnlySpan<float> src, ReadOnlySpan<int> srcDims, Span<float> dst, ReadOnlySpan<int> dstDims, ReadOnlySpan<int> begin, float value)
    {
        Span<int> s = stackalloc int[4], d = stackalloc int[4], b = stackalloc int[4];
        Promote(srcDims, s, 1);
        Promote(dstDims, d, 1);
        Promote(begin, b, 0);
        dst.Fill(value);
        int cols = Math.Min(s[3], d[3] - b[3]);
        if (cols <= 0) return;
        for (int n = 0; n < s[0]; n++)
        {
            int dn = n + b[0];
            if (dn >= d[0]) break;
            for (int c = 0; c < s[1]; c++)
            {
                int dc = c + b[1];
                if (dc >= d[1]) break;
                for (int h = 0; h < s[2]; h++)
                {
                    int dh = h + b[2];
                    if (dh >= d[2]) break;
                    src.Slice(((n * s[1] + c) * s[2] + h) * s[3], cols)
                        .CopyTo(dst.Slice(((dn * d[1] + dc) * d[2] + dh) * d[3] + b[3], cols));
                }
            }
        }
    }

    private static void Promote(ReadOnlySpan<int> dims, Span<int> four, int fill)
    {
        four.Fill(fill);
        dims.CopyTo(four[(4 - dims.Length)..]);
    }
}
