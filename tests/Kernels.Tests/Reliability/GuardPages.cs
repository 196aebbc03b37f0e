namespace Kernels.Tests.Reliability;

/// <summary>
/// A float buffer placed against a page mapped with no access (mmap + mprotect): with <see cref="Placement.AtEnd"/>
/// the span's last element is the last word before the guard page, with <see cref="Placement.AtStart"/> its first
/// element is the first word after one. Any read or write past the span faults and kills the test process, so a
/// passing run proves there was none. Linux only.
/// </summary>
public sealed unsafe class GuardPage : IDisposable
{
    public enum Placement { AtEnd, AtStart }

    // The library's guarded scratch blocks (mmap + mprotect) serve the tests' own buffers as well.
    private Scratch.Block _block;

    public GuardPage(int length, Placement placement)
    {
        Length = length;
        _block = Scratch.Block.Guarded(length, placement == Placement.AtEnd ? Scratch.GuardPlacement.AtEnd : Scratch.GuardPlacement.AtStart);
    }

    public int Length { get; }
    public Span<float> Span => new(_block.Data, Length);

    public static GuardPage From(ReadOnlySpan<float> values, Placement placement)
    {
        var g = new GuardPage(values.Length, placement);
        values.CopyTo(g.Span);
        return g;
    }

    public void Dispose() => _block.Free();
}
