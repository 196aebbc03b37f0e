namespace Kernels;

/// <summary>
/// Per-thread, grow-only scratch arrays, one per role, so that steady-state calls allocate nothing. (With
/// <c>ArrayPool.Shared</c>, BenchmarkDotNet's MemoryDiagnoser measured 0.1-6 KB per call on average: the shared pool
/// drops large idle arrays on a gen-2 collection and they get allocated again.) Each thread keeps, per role, an
/// array as large as the largest call it has served: at most the GEMM's packed panels (KC x NC + M x KC floats)
/// and one chunk of im2col columns (see <see cref="Conv2D"/>), like a BLAS library's per-thread buffers.
/// A role is never used twice at once on one thread: convolution holds <see cref="Role.Weights"/> (its filters,
/// packed once per call) and <see cref="Role.Columns"/> while the GEMM it calls holds <see cref="Role.PackedA"/>
/// and <see cref="Role.PackedB"/>; a packer that reads through a transpose holds <see cref="Role.Transposed"/>
/// (at most NR x KC floats) while it fills one panel, and the forward convolution holds <see cref="Role.PaddedImage"/>
/// for the zero-padded copy of one image (C x (H + 2 pad) x (W + 2 pad) floats) when its im2col reads one.
/// </summary>
internal static class Scratch
{
    public enum Role { Columns, PackedA, PackedB, Weights, Transposed, PaddedImage }

    [ThreadStatic] private static float[][]? t_buffers;

    /// <summary>
    /// An array of at least <paramref name="length"/> floats for this thread and role (contents undefined). Callers
    /// compute lengths in 64 bits, so a product that would overflow an int is refused here instead of wrapping to a
    /// small length and letting a kernel write past the array.
    /// </summary>
    /// <exception cref="OutOfMemoryException">More floats than the largest .NET array holds.</exception>
    public static float[] Get(Role role, long length)
    {
        EnsureFits(role, length);
        float[][] buffers = t_buffers ??= [[], [], [], [], [], []];
        ref float[] buffer = ref buffers[(int)role];
        if (buffer.Length < length) buffer = new float[length];
        return buffer;
    }

    /// <summary>Throws unless <paramref name="length"/> floats fit one array: lets a kernel refuse before it allocates or writes anything.</summary>
    /// <exception cref="OutOfMemoryException">More floats than the largest .NET array holds.</exception>
    public static void EnsureFits(Role role, long length)
    {
        if (length > Array.MaxLength)
            throw new OutOfMemoryException($"The kernel needs {length} floats of scratch for role {role}, more than the largest array ({Array.MaxLength}).");
    }
}
