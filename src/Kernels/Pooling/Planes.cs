using System.Runtime.CompilerServices;
namespace Kernels.Pooling;

/// <summary>One pooling kernel applied to plane <c>index</c> of a batch; planes are independent.</summary>
internal readonly unsafe struct Planes(float* x, float* dout, float* output, Shape4 xs, Shape4 ys, Pool2DParams p, Planes.Kind kind) : IIndexAction
{
    public enum Kind { MaxForward, MaxBackward, AvgForward, AvgBackward }

    /// <summary>
    /// Threads worth using on input x: each takes at least 32K input elements (128 KiB, ~10 microseconds of
    /// memory traffic) so that a fork-join stays a small share of its time; planes are split in contiguous ranges.
    /// </summary>
    public static int Threads(int degree, Shape4 x) => Threading.Partition.Threads(degree, x.Length, 1 << 15);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Invoke(int plane)
    {
        long xo = (long)plane * xs.PlaneLength, yo = (long)plane * ys.PlaneLength;
        switch (kind)
        {
            case Kind.MaxForward: PoolingKernels.MaxForwardPlane(x + xo, xs.H, xs.W, output + yo, ys.H, ys.W, p); break;
            case Kind.MaxBackward: PoolingKernels.MaxBackwardPlane(dout + yo, x + xo, xs.H, xs.W, output + xo, ys.H, ys.W, p); break;
            case Kind.AvgForward: PoolingKernels.AvgForwardPlane(x + xo, xs.H, xs.W, output + yo, ys.H, ys.W, p); break;
            default: PoolingKernels.AvgBackwardPlane(dout + yo, xs.H, xs.W, output + xo, ys.H, ys.W, p); break;
        }
    }
}
