namespace Kernels.Pooling;

/// <summary>One pooling kernel applied to plane <c>index</c> of a batch; planes are independent.</summary>
internal readonly unsafe struct Planes(float* x, float* dout, float* output, Shape4 xs, Shape4 ys, Pool2DParams p, Planes.Kind kind) : IIndexAction
{
    public enum Kind { MaxForward, MaxBackward, AvgForward, AvgBackward }

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
