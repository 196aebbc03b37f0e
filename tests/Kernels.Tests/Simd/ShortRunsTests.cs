using Kernels.Simd;
using Kernels.Tests.Reliability;
using static Kernels.Tests.Reliability.GuardPage;

namespace Kernels.Tests.Simd;

/// <summary>Short-run copy, clear and stride-2 gather: bit-exact, touching exactly their ranges (guard pages at both ends).</summary>
[Trait("Category", "Kernel")]
public unsafe class ShortRunsTests
{
    private const float Sentinel = -31337f;

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Short_copy_and_clear_touch_exactly_n_floats(int n)
    {
        foreach (Placement at in new[] { Placement.AtEnd, Placement.AtStart })
        {
            using GuardPage src = From(TestData.Floats(n, n), at), dst = new(n, at);
            dst.Span.Fill(Sentinel);
            fixed (float* ps = src.Span, pd = dst.Span) ShortRuns.Copy(ps, pd, n);
            FloatAssert.BitwiseEqual(src.Span.ToArray(), dst.Span, $"copy of {n}");
            fixed (float* pd = dst.Span) ShortRuns.Clear(pd, n);
            Assert.All(dst.Span.ToArray(), v => Assert.Equal(0, BitConverter.SingleToInt32Bits(v)));
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Stride_two_gather_reads_only_up_to_its_limit(int n)
    {
        // The source ends at the guard page: with 2n - 1 floats (the last one needed) the vector path, which reads
        // one more, must not run; with 2n floats it may.
        foreach (int length in new[] { Math.Max(0, 2 * n - 1), 2 * n })
        {
            using GuardPage src = From(TestData.Floats(n + 100, length), Placement.AtEnd), dst = new(n, Placement.AtEnd);
            fixed (float* ps = src.Span, pd = dst.Span) ShortRuns.CopyEven(ps, pd, n, ps + length);
            for (int i = 0; i < n; i++) Assert.Equal(BitConverter.SingleToInt32Bits(src.Span[2 * i]), BitConverter.SingleToInt32Bits(dst.Span[i]));
        }
    }

    public static TheoryData<int> Lengths => new(Enumerable.Range(0, 70));
}
