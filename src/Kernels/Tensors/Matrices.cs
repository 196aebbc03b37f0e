using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CommunityToolkit.HighPerformance;

namespace Kernels;

/// <summary>Shape checks and helpers for the 2-D views (<see cref="Span2D{T}"/>) used by GEMM, affine and the losses.</summary>
internal static class Matrices
{
    public static void Shape<T>(ReadOnlySpan2D<T> m, int rows, int cols, string name, string what)
    {
        if (m.Height != rows || m.Width != cols)
            Guard.Throw(name, $"{name} is {m.Height} x {m.Width} but {what} needs {rows} x {cols}.");
    }

    /// <summary>The memory a 2-D view spans, first to last element (only for overlap checks).</summary>
    public static ReadOnlySpan<T> Extent<T>(ReadOnlySpan2D<T> m)
    {
        if (m.IsEmpty) return default;
        long length = (long)(m.Height - 1) * (m.Width + Pitch(m)) + m.Width;
        return MemoryMarshal.CreateReadOnlySpan(ref m.DangerousGetReference(), (int)length);
    }

    /// <summary>Elements skipped between rows: the leading dimension is Width + Pitch.</summary>
    public static int Pitch<T>(ReadOnlySpan2D<T> m) =>
        m.Height <= 1 ? 0 : (int)Unsafe.ByteOffset(ref m.DangerousGetReferenceAt(0, 0), ref m.DangerousGetReferenceAt(1, 0)) / Unsafe.SizeOf<T>() - m.Width;

    public static void NoOverlap<T>(ReadOnlySpan2D<T> output, ReadOnlySpan2D<T> input, string outputName, string inputName) =>
        Guard.NoOverlap(Extent(output), Extent(input), outputName, inputName);
}
