using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kernels.Simd;

namespace Kernels.Normalization;

/// <summary>
/// The per-plane sums batch normalization needs, shifted by a value close to the mean so that no term cancels
/// (the corrected two-pass algorithm: Chan, Golub and LeVeque). Each lane accumulates at most
/// <see cref="ChunkVectors"/> terms in float, then the chunk's lanes are added in double, so a plane of any length
/// has float error at most (<see cref="ChunkVectors"/> + lanes) u relative to the sum of |terms|. The widest
/// accelerated width is used; the order depends only on the width, never on threads.
/// </summary>
internal static class PlaneSums
{
    /// <summary>Terms per lane before the float accumulator is flushed into double.</summary>
    public const int ChunkVectors = 64;

    /// <summary><c>sum (x - shift)</c> and <c>sum (x - shift)^2</c>.</summary>
    public static (double Sum, double SumOfSquares) Centered(ReadOnlySpan<float> x, float shift) =>
        Isa.Width >= SimdWidth.Vector512 ? Centered<Vector512<float>, V512>(x, shift)
        : Isa.Width >= SimdWidth.Vector256 ? Centered<Vector256<float>, V256>(x, shift)
        : Isa.Width >= SimdWidth.Vector128 ? Centered<Vector128<float>, V128>(x, shift)
        : Centered<float, ScalarOps>(x, shift);

    /// <summary><c>sum a</c>, <c>sum a (x - shift)</c> and <c>sum (x - shift)</c>.</summary>
    public static (double Sum, double SumOfProducts, double SumCentered) CenteredDot(ReadOnlySpan<float> a, ReadOnlySpan<float> x, float shift) =>
        Isa.Width >= SimdWidth.Vector512 ? CenteredDot<Vector512<float>, V512>(a, x, shift)
        : Isa.Width >= SimdWidth.Vector256 ? CenteredDot<Vector256<float>, V256>(a, x, shift)
        : Isa.Width >= SimdWidth.Vector128 ? CenteredDot<Vector128<float>, V128>(a, x, shift)
        : CenteredDot<float, ScalarOps>(a, x, shift);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (double, double) Centered<TVec, TOps>(ReadOnlySpan<float> x, float shift) where TVec : struct where TOps : IVectorOps<TVec>
    {
        int w = TOps.Count, i = 0, n = x.Length;
        double sum = 0, squares = 0;
        TVec s = TOps.Broadcast(shift);
        ref float x0 = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        while (i <= n - w)
        {
            TVec a1 = TOps.Zero, a2 = TOps.Zero;
            for (int end = Math.Min(n - w, i + (ChunkVectors - 1) * w); i <= end; i += w)
            {
                TVec d = TOps.Subtract(TOps.Load(in Unsafe.Add(ref x0, i)), s);
                a1 = TOps.Add(a1, d);
                a2 = TOps.MultiplyAdd(d, d, a2);
            }
            sum += TOps.Sum(a1);
            squares += TOps.Sum(a2);
        }
        // The last n mod w elements: a plain loop (an overlapping vector would count elements twice).
        for (; i < n; i++)
        {
            float d = x[i] - shift;
            sum += d;
            squares += d * d;
        }
        return (sum, squares);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (double, double, double) CenteredDot<TVec, TOps>(ReadOnlySpan<float> a, ReadOnlySpan<float> x, float shift)
        where TVec : struct where TOps : IVectorOps<TVec>
    {
        int w = TOps.Count, i = 0, n = x.Length;
        double sum = 0, products = 0, centered = 0;
        TVec s = TOps.Broadcast(shift);
        ref float a0 = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(a);
        ref float x0 = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        while (i <= n - w)
        {
            TVec a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero;
            for (int end = Math.Min(n - w, i + (ChunkVectors - 1) * w); i <= end; i += w)
            {
                TVec g = TOps.Load(in Unsafe.Add(ref a0, i)), d = TOps.Subtract(TOps.Load(in Unsafe.Add(ref x0, i)), s);
                a1 = TOps.Add(a1, g);
                a2 = TOps.MultiplyAdd(g, d, a2);
                a3 = TOps.Add(a3, d);
            }
            sum += TOps.Sum(a1);
            products += TOps.Sum(a2);
            centered += TOps.Sum(a3);
        }
        for (; i < n; i++)
        {
            sum += a[i];
            products += a[i] * (x[i] - shift);
            centered += x[i] - shift;
        }
        return (sum, products, centered);
    }
}
