using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CommunityToolkit.HighPerformance;

namespace Kernels;

/// <summary>Shape checks and helpers for the 2-D views (<see cref="Span2D{T}"/>) used by GEMM, affine and the losses.</summary>
internal static class Matrices
{
    /// <summary>Throws unless a height x width matrix is rows x cols; <paramref name="what"/> is only formatted when it throws.</summary>
    public static void Shape(int height, int width, int rows, int cols, string name, [InterpolatedStringHandlerArgument("height", "width", "rows", "cols")] ref MatrixText what)
    {
        if (height != rows || width != cols)
            Guard.Throw(name, $"{name} is {height} x {width} but {what.ToString()} needs {rows} x {cols}.");
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
