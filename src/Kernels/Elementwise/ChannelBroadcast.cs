using System.Numerics.Tensors;

namespace Kernels;

/// <summary>
/// Element-wise multiply and add of x (N, C, H, W) by a per-channel tensor of shape (N, C, 1, 1) (a
/// squeeze-and-excitation gate, one value per image and channel) or (1, C, 1, 1) (one per channel, shared by every
/// image), with the semantics of <see cref="Reference.ChannelBroadcast"/>. Channels run in parallel, each on one
/// thread in image order, so results do not depend on the thread count.
/// </summary>
public static unsafe class ChannelBroadcast
{
    /// <summary><c>y[n,c,h,w] = x[n,c,h,w] * scale[n or 0, c]</c>.</summary>
    /// <param name="x">Input (N, C, H, W).</param>
    /// <param name="scale">(N, C, 1, 1) or (1, C, 1, 1).</param>
    /// <param name="y">Output (N, C, H, W); may be the same memory as x.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Multiply(ReadOnlyNchwSpan<float> x, ReadOnlyNchwSpan<float> scale, NchwSpan<float> y, int maxDegreeOfParallelism = 1) =>
        Forward(x, scale, y, maxDegreeOfParallelism, multiply: true);

    /// <summary><c>y[n,c,h,w] = x[n,c,h,w] + bias[n or 0, c]</c>.</summary>
    /// <param name="x">Input (N, C, H, W).</param>
    /// <param name="bias">(N, C, 1, 1) or (1, C, 1, 1).</param>
    /// <param name="y">Output (N, C, H, W); may be the same memory as x.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Add(ReadOnlyNchwSpan<float> x, ReadOnlyNchwSpan<float> bias, NchwSpan<float> y, int maxDegreeOfParallelism = 1) =>
        Forward(x, bias, y, maxDegreeOfParallelism, multiply: false);

    /// <summary>
    /// Backward of <see cref="Multiply"/>: <c>dx = dout * scale</c> (broadcast) and <c>dscale[n,c] = sum_hw dout x</c>,
    /// also summed over n when scale is (1, C, 1, 1).
    /// </summary>
    /// <param name="dout">Upstream gradient (N, C, H, W).</param>
    /// <param name="x">The forward input (N, C, H, W).</param>
    /// <param name="scale">The forward scale, (N, C, 1, 1) or (1, C, 1, 1).</param>
    /// <param name="dx">Gradient of x (N, C, H, W); may be the same memory as dout or x.</param>
    /// <param name="dscale">Gradient of scale, scale's shape (overwritten).</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void MultiplyBackward(ReadOnlyNchwSpan<float> dout, ReadOnlyNchwSpan<float> x, ReadOnlyNchwSpan<float> scale, NchwSpan<float> dx,
        NchwSpan<float> dscale, int maxDegreeOfParallelism = 1)
    {
        Reference.ChannelBroadcast.ValidateMultiplyBackward(dout, x, scale, dx, dscale);
        int degree = Parallelism.Resolve(maxDegreeOfParallelism);
        fixed (float* pd = dout.Span, px = x.Span, ps = scale.Span, pdx = dx.Span, pds = dscale.Span)
            Parallelism.For(x.Shape.C, Threads(degree, x.Shape), new Channels(pd, px, ps, pdx, pds, x.Shape, scale.Shape.N, Kind.MultiplyBackward));
    }

    /// <summary>
    /// Backward of <see cref="Add"/> for the bias: <c>dbias[n,c] = sum_hw dout</c>, also summed over n when bias is
    /// (1, C, 1, 1). (dx is dout itself.)
    /// </summary>
    /// <param name="dout">Upstream gradient (N, C, H, W).</param>
    /// <param name="dbias">Gradient of the bias, (N, C, 1, 1) or (1, C, 1, 1) (overwritten).</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void AddBackward(ReadOnlyNchwSpan<float> dout, NchwSpan<float> dbias, int maxDegreeOfParallelism = 1)
    {
        Reference.ChannelBroadcast.ValidateOperand(dout.Shape, dbias.Shape, nameof(dbias));
        int degree = Parallelism.Resolve(maxDegreeOfParallelism);
        fixed (float* pd = dout.Span, pdb = dbias.Span)
            Parallelism.For(dout.Shape.C, Threads(degree, dout.Shape), new Channels(pd, null, null, null, pdb, dout.Shape, dbias.Shape.N, Kind.AddBackward));
    }

    private static void Forward(ReadOnlyNchwSpan<float> x, ReadOnlyNchwSpan<float> operand, NchwSpan<float> y, int maxDegreeOfParallelism, bool multiply)
    {
        Reference.ChannelBroadcast.ValidateForward(x, operand, y, multiply ? "scale" : "bias");
        int degree = Parallelism.Resolve(maxDegreeOfParallelism);
        fixed (float* px = x.Span, ps = operand.Span, py = y.Span)
            Parallelism.For(x.Shape.C, Threads(degree, x.Shape),
                new Channels(null, px, ps, py, null, x.Shape, operand.Shape.N, multiply ? Kind.Multiply : Kind.Add));
    }

    private static int Threads(int degree, Shape4 x) => Threading.Partition.Threads(degree, x.Length, 1 << 15);

    private enum Kind { Multiply, Add, MultiplyBackward, AddBackward }

    /// <summary>One channel c over every image; operand index n * C + c, or c when the operand has N = 1.</summary>
    private readonly struct Channels(float* dout, float* x, float* operand, float* output, float* grad, Shape4 s, int operandN, Kind kind) : IIndexAction
    {
        public void Invoke(int c)
        {
            int hw = s.PlaneLength;
            double total = 0;
            for (int n = 0; n < s.N; n++)
            {
                long plane = ((long)n * s.C + c) * hw;
                int o = operandN == 1 ? c : n * s.C + c;
                switch (kind)
                {
                    case Kind.Multiply: TensorPrimitives.Multiply(new ReadOnlySpan<float>(x + plane, hw), operand[o], new Span<float>(output + plane, hw)); break;
                    case Kind.Add: TensorPrimitives.Add(new ReadOnlySpan<float>(x + plane, hw), operand[o], new Span<float>(output + plane, hw)); break;
                    case Kind.MultiplyBackward:
                        // The sum first: dx may be the same memory as x.
                        total += TensorPrimitives.Dot(new ReadOnlySpan<float>(dout + plane, hw), new ReadOnlySpan<float>(x + plane, hw));
                        TensorPrimitives.Multiply(new ReadOnlySpan<float>(dout + plane, hw), operand[o], new Span<float>(output + plane, hw));
                        break;
                    default: total += TensorPrimitives.Sum(new ReadOnlySpan<float>(dout + plane, hw)); break;
                }
                if (kind is Kind.MultiplyBackward or Kind.AddBackward && (operandN != 1 || n == s.N - 1))
                {
                    grad[o] = (float)total;
                    total = 0;
                }
            }
        }
    }
}
