namespace Kernels.Tests;

/// <summary>
/// An output buffer with guard zones of a sentinel on both sides (XNNPACK-style): a kernel that writes outside
/// its span changes a guard, which <see cref="AssertIntact"/> reports. The span itself starts filled with NaN so
/// that an element the kernel forgets to write is visible too.
/// </summary>
public sealed class Guarded
{
    public const float Sentinel = -31337.25f;
    private const int Zone = 19;
    private readonly float[] _buffer;

    public Guarded(int length, float fill = float.NaN)
    {
        Length = length;
        _buffer = new float[length + 2 * Zone];
        _buffer.AsSpan().Fill(Sentinel);
        Span.Fill(fill);
    }

    public int Length { get; }
    public Span<float> Span => _buffer.AsSpan(Zone, Length);
    public float[] ToArray() => Span.ToArray();

    public void AssertIntact(string what)
    {
        for (int i = 0; i < Zone; i++)
        {
            Assert.True(_buffer[i] == Sentinel, $"{what}: guard before the span was overwritten at -{Zone - i}");
            Assert.True(_buffer[Zone + Length + i] == Sentinel, $"{what}: guard after the span was overwritten at +{i}");
        }
    }
}
