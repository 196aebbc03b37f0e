namespace Kernels;

/// <summary>
/// Output-size arithmetic shared by the reference kernels, the fast kernels, the tests and the benchmarks,
/// so that all of them agree on what shape is valid.
/// </summary>
public static class Geometry
{
    /// <summary>
    /// Output length along one axis: <c>floor((input + 2*pad - filter) / stride) + 1</c> (PyTorch's rule,
    /// also when the division is not exact). Throws <see cref="ArgumentException"/> when it is below 1.
    /// </summary>
    public static int OutputSize(int input, int filter, int stride, int pad, string axis = "H")
    {
        Guard.AtLeast(input, 1, nameof(input));
        Guard.AtLeast(filter, 1, nameof(filter));
        Guard.AtLeast(stride, 1, nameof(stride));
        Guard.AtLeast(pad, 0, nameof(pad));
        // The kernels index the padded input with 32-bit arithmetic (i * stride - pad + tap), which cannot wrap when
        // the padded extent itself fits an int; larger padding only adds rows of zeros no real input needs.
        if ((long)input + 2L * pad > int.MaxValue)
            Guard.ThrowOutOfRange(nameof(pad), pad,
                $"pad {pad} makes the padded input {axis} size {(long)input + 2L * pad} (input {input}), more than {int.MaxValue}.");
        long span = (long)input + 2L * pad - filter;
        if (span < 0)
            Guard.Throw(nameof(filter),
                $"filter {axis} size {filter} is larger than the padded input {axis} size {input + 2L * pad} (input {input}, pad {pad}); the output would be below 1.");
        long output = span / stride + 1;
        if (output > int.MaxValue) Guard.ThrowOutOfRange(nameof(input), output, $"output {axis} size {output} overflows int.");
        return (int)output;
    }

    /// <summary>
    /// Validates a convolution's shapes and returns the output shape (N, F, Hout, Wout).
    /// x: (N, C, H, W); w: (F, C, HH, WW); bias length F.
    /// </summary>
    public static Shape4 Conv2DOutput(Shape4 x, Shape4 w, int biasLength, Conv2DParams p)
    {
        p.Validate(nameof(p));
        if (w.C != x.C)
            Guard.Throw("w", $"w has {w.C} input channels but x has {x.C}.");
        if (biasLength != w.N)
            Guard.Throw("b", $"b has length {biasLength} but w has {w.N} filters.");
        int ho = OutputSize(x.H, w.H, p.Stride, p.Pad, "H");
        int wo = OutputSize(x.W, w.W, p.Stride, p.Pad, "W");
        return new Shape4(x.N, w.N, ho, wo);
    }

    /// <summary>Validates a pooling's parameters against x (N, C, H, W) and returns the output shape (N, C, Hout, Wout).</summary>
    public static Shape4 Pool2DOutput(Shape4 x, Pool2DParams p)
    {
        p.Validate(nameof(p));
        int ho = OutputSize(x.H, p.PoolHeight, p.Stride, 0, "H");
        int wo = OutputSize(x.W, p.PoolWidth, p.Stride, 0, "W");
        return new Shape4(x.N, x.C, ho, wo);
    }
}
