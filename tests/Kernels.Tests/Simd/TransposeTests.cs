using FsCheck.Xunit;
using Kernels.Simd;
using Kernels.Tests.Reliability;
using static Kernels.Tests.Reliability.GuardPage;

namespace Kernels.Tests.Simd;

/// <summary>
/// Transpose moves floats and nothing else: bit-exact against the plain loop, and never outside its ranges (source
/// and destination against a no-access page, untouched destination gaps still hold their sentinel).
/// </summary>
[Trait("Category", "Kernel")]
public unsafe class TransposeTests
{
    private const float Sentinel = -31337f;

    [Property(MaxTest = 200)]
    public void Transpose_matches_the_loop_and_stays_in_bounds(byte rows0, byte cols0, byte pitch0, bool atEnd)
    {
        // Up to 40 x 40: whole 16-, 8- and 4-wide blocks, their strips and scalar corners all occur.
        int rows = rows0 % 40 + 1, cols = cols0 % 40 + 1, srcStride = cols + pitch0 % 5, dstStride = rows + pitch0 / 5 % 5;
        Placement at = atEnd ? Placement.AtEnd : Placement.AtStart;
        using GuardPage src = From(TestData.Floats(rows0 * 256 + cols0, (rows - 1) * srcStride + cols), at);
        using GuardPage dst = new((cols - 1) * dstStride + rows, at);
        dst.Span.Fill(Sentinel);
        fixed (float* ps = src.Span, pd = dst.Span) Transpose.Matrix(ps, srcStride, rows, cols, pd, dstStride);
        for (int c = 0; c < cols; c++)
            for (int r = 0; r < dstStride && c * dstStride + r < dst.Length; r++)
            {
                float expected = r < rows ? src.Span[r * srcStride + c] : Sentinel;
                Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(dst.Span[c * dstStride + r]));
            }
    }
}
