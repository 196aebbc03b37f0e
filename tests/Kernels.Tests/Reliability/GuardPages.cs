using System.Runtime.InteropServices;

namespace Kernels.Tests.Reliability;

/// <summary>
/// A float buffer placed against a page mapped with no access (mmap + mprotect): with <see cref="Placement.AtEnd"/>
/// the span's last element is the last word before the guard page, with <see cref="Placement.AtStart"/> its first
/// element is the first word after one. Any read or write past the span faults and kills the test process, so a
/// passing run proves there was none. Linux only.
/// </summary>
public sealed unsafe partial class GuardPage : IDisposable
{
    public enum Placement { AtEnd, AtStart }

    private const int PageSize = 4096, ProtNone = 0, ProtReadWrite = 3, MapPrivate = 0x02, MapAnonymous = 0x20;
    private readonly byte* _map;
    private readonly nuint _mapLength;
    private readonly float* _data;

    public GuardPage(int length, Placement placement)
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("guard pages use Linux mmap/mprotect");
        Length = length;
        nuint bytes = (nuint)Math.Max(1, length) * sizeof(float);
        nuint dataPages = (bytes + PageSize - 1) / PageSize;
        _mapLength = (dataPages + 1) * PageSize;
        _map = (byte*)Mmap(IntPtr.Zero, _mapLength, ProtReadWrite, MapPrivate | MapAnonymous, -1, 0);
        if (_map == (byte*)-1) throw new InvalidOperationException($"mmap failed: errno {Marshal.GetLastPInvokeError()}");
        byte* guard = placement == Placement.AtEnd ? _map + dataPages * PageSize : _map;
        if (Mprotect((IntPtr)guard, PageSize, ProtNone) != 0) throw new InvalidOperationException($"mprotect failed: errno {Marshal.GetLastPInvokeError()}");
        _data = placement == Placement.AtEnd ? (float*)(guard - (nint)((nuint)length * sizeof(float))) : (float*)(_map + PageSize);
    }

    public int Length { get; }
    public Span<float> Span => new(_data, Length);

    public static GuardPage From(ReadOnlySpan<float> values, Placement placement)
    {
        var g = new GuardPage(values.Length, placement);
        values.CopyTo(g.Span);
        return g;
    }

    public void Dispose() => _ = Munmap((IntPtr)_map, _mapLength);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial IntPtr Mmap(IntPtr addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "mprotect", SetLastError = true)]
    private static partial int Mprotect(IntPtr addr, nuint length, int prot);

    [LibraryImport("libc", EntryPoint = "munmap")]
    private static partial int Munmap(IntPtr addr, nuint length);
}
