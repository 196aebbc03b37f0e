using System.Runtime.InteropServices;

namespace Kernels;

/// <summary>
/// Per-thread, grow-only scratch buffers, one per role, so that steady-state calls allocate nothing. They are native
/// memory aligned to 64 bytes (a cache line; a whole Vector512), owned by an arena per thread that frees them when
/// the thread ends. (With <c>ArrayPool.Shared</c>, BenchmarkDotNet's MemoryDiagnoser measured 0.1-6 KB per call on
/// average: the shared pool drops large idle arrays on a gen-2 collection and they get allocated again.) Each thread
/// keeps, per role, a buffer as large as the largest call it has served: at most the GEMM's packed panels
/// (KC x NC + M x KC floats) and one chunk of im2col columns (see <see cref="Conv2D"/>), like a BLAS library's
/// per-thread buffers. A role is never used twice at once on one thread: convolution holds <see cref="Role.Weights"/>
/// (its filters, packed once per call) and <see cref="Role.Columns"/> while the GEMM it calls holds
/// <see cref="Role.PackedA"/> and <see cref="Role.PackedB"/>; a packer that reads through a transpose holds
/// <see cref="Role.Transposed"/> (at most NR x KC floats) while it fills one panel, and the forward convolution holds
/// <see cref="Role.PaddedImage"/> for the zero-padded copy of one image when its im2col reads one; the filter
/// gradient's block order holds <see cref="Role.Partials"/> (partial sums of dw) on the calling thread, and the
/// losses hold <see cref="Role.RowLosses"/> (one double per row). The Winograd convolution holds its transformed filters
/// (<see cref="Role.Weights"/>, caller) and, per thread, a block's transformed input (<see cref="Role.Columns"/>), its
/// products (<see cref="Role.Products"/>) and the row temporaries of the transforms (<see cref="Role.Rows"/>); its
/// filter transform uses <see cref="Role.Transposed"/>.
/// </summary>
internal static unsafe partial class Scratch
{
    public enum Role { Columns, PackedA, PackedB, Weights, Transposed, PaddedImage, Partials, RowLosses, Products, Rows }

    private const int Roles = 10;

    /// <summary>The most floats one buffer may hold: the largest .NET array, as before scratch was native.</summary>
    public static long MaxLength => Array.MaxLength;

    [ThreadStatic] private static Arena? t_arena;

    /// <summary>
    /// A buffer of at least <paramref name="length"/> floats for this thread and role (contents undefined; null for
    /// length 0). Callers compute lengths in 64 bits, so a product that would overflow an int is refused here instead
    /// of wrapping to a small length and letting a kernel write past the buffer. The pointer stays valid until the
    /// same thread asks for the same role again.
    /// </summary>
    /// <exception cref="OutOfMemoryException">More than <see cref="MaxLength"/> floats, or the allocation failed.</exception>
    public static float* Get(Role role, long length)
    {
        EnsureFits(role, length);
        if (length < 0) throw new InvalidOperationException($"Scratch length {length} for role {role} is negative: a size computation overflowed.");
        return (t_arena ??= new Arena()).Get((int)role, length);
    }

    /// <summary>Throws unless <paramref name="length"/> floats fit one buffer: lets a kernel refuse before it allocates or writes anything.</summary>
    /// <exception cref="OutOfMemoryException">More floats than <see cref="MaxLength"/>.</exception>
    public static void EnsureFits(Role role, long length)
    {
        System.Diagnostics.Debug.Assert(length >= 0, "scratch lengths are computed without overflow");
        if (length > MaxLength)
            throw new OutOfMemoryException($"The kernel needs {length} floats of scratch for role {role}, more than the largest buffer ({MaxLength}).");
    }

    /// <summary>Where test builds put scratch: <see cref="GuardPlacement.None"/> in production.</summary>
    public enum GuardPlacement { None, AtEnd, AtStart }

    /// <summary>
    /// Test-only switch (Linux): every <see cref="Get"/> maps a fresh buffer of exactly the requested length against a
    /// page with no access, after its last float (<see cref="GuardPlacement.AtEnd"/>) or before its first
    /// (<see cref="GuardPlacement.AtStart"/>), and unmaps the role's previous buffer. An overrun of the library's own
    /// scratch, or a use of a buffer after its role was handed out again, then faults instead of passing silently.
    /// </summary>
    public static GuardPlacement Guard { get; set; }

    /// <summary>One thread's buffers; the finalizer frees them once the thread has ended and the arena is unreachable.</summary>
    private sealed class Arena
    {
        private readonly Block[] _blocks = new Block[Roles];

        public float* Get(int role, long length)
        {
            if (length == 0) return null;
            ref Block block = ref _blocks[role];
            GuardPlacement guard = Guard;
            if (guard == GuardPlacement.None && block.Guard == GuardPlacement.None && block.Length >= length) return block.Data;
            block.Free();
            block = guard == GuardPlacement.None ? Block.Aligned(length) : Block.Guarded(length, guard);
            return block.Data;
        }

        ~Arena()
        {
            for (int i = 0; i < _blocks.Length; i++) _blocks[i].Free();
        }
    }

    /// <summary>One buffer: aligned native memory, or (tests) placed against a no-access page; the test suite's guard pages for the caller's spans are these too.</summary>
    internal struct Block
    {
        private const int PageSize = 4096;
        public float* Data;
        public long Length;
        public GuardPlacement Guard;
        private void* _map;
        private nuint _mapLength;

        public static Block Aligned(long length)
        {
            // Grow by at least an eighth so a slowly growing sequence of calls does not reallocate every time.
            long capacity = Math.Min(MaxLength, Math.Max(length, length + length / 8));
            return new Block { Data = (float*)NativeMemory.AlignedAlloc((nuint)capacity * sizeof(float), 64), Length = capacity };
        }

        public static Block Guarded(long length, GuardPlacement placement)
        {
            nuint bytes = (nuint)length * sizeof(float), dataPages = (bytes + PageSize - 1) / PageSize, mapLength = (dataPages + 1) * PageSize;
            byte* map = (byte*)GuardPages.Map(mapLength);
            byte* guard = placement == GuardPlacement.AtEnd ? map + dataPages * PageSize : map;
            GuardPages.Protect(guard, PageSize);
            float* data = placement == GuardPlacement.AtEnd ? (float*)(guard - bytes) : (float*)(map + PageSize);
            return new Block { Data = data, Length = length, Guard = placement, _map = map, _mapLength = mapLength };
        }

        public void Free()
        {
            if (Data == null) return;
            if (Guard == GuardPlacement.None) NativeMemory.AlignedFree(Data);
            else GuardPages.Unmap(_map, _mapLength);
            this = default;
        }
    }

    private static partial class GuardPages
    {
        public static void* Map(nuint length)
        {
            if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("guarded scratch uses Linux mmap/mprotect.");
            void* map = (void*)Mmap(IntPtr.Zero, length, 3 /* read | write */, 0x22 /* private | anonymous */, -1, 0);
            if (map == (void*)-1) throw new OutOfMemoryException($"mmap of {length} bytes of guarded scratch failed (errno {Marshal.GetLastPInvokeError()}).");
            return map;
        }

        public static void Protect(void* page, nuint length)
        {
            if (Mprotect((IntPtr)page, length, 0 /* no access */) != 0)
                throw new InvalidOperationException($"mprotect of a scratch guard page failed (errno {Marshal.GetLastPInvokeError()}).");
        }

        public static void Unmap(void* map, nuint length) => _ = Munmap((IntPtr)map, length);

        [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
        private static partial IntPtr Mmap(IntPtr addr, nuint length, int prot, int flags, int fd, nint offset);

        [LibraryImport("libc", EntryPoint = "mprotect", SetLastError = true)]
        private static partial int Mprotect(IntPtr addr, nuint length, int prot);

        [LibraryImport("libc", EntryPoint = "munmap")]
        private static partial int Munmap(IntPtr addr, nuint length);
    }
}
