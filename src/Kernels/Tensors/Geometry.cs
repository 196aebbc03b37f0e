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
    public static int OutputSize(int input, int filter, int stride, int pad, string axis = "H") =>
        OutputSize(input, filter, stride, pad, pad, 1, axis);

    /// <summary>
    /// Output length along one axis with padBefore zeros before the input, padAfter after it and taps dilation
    /// apart: <c>floor((input + padBefore + padAfter - dilation * (filter - 1) - 1) / stride) + 1</c>. Throws
    /// <see cref="ArgumentException"/> when the dilated filter is larger than the padded input.
    /// </summary>
    public static int OutputSize(int input, int filter, int stride, int padBefore, int padAfter, int dilation, string axis = "H")
    {
        Guard.AtLeast(input, 1, nameof(input));
        Guard.AtLeast(filter, 1, nameof(filter));
        Guard.AtLeast(stride, 1, nameof(stride));
        Guard.AtLeast(padBefore, 0, nameof(padBefore));
        Guard.AtLeast(padAfter, 0, nameof(padAfter));
        Guard.AtLeast(dilation, 1, nameof(dilation));
        // The kernels index the padded input with 32-bit arithmetic (i * stride - pad + tap * dilation), which cannot
        // wrap when the padded extent itself fits an int; larger padding only adds rows of zeros no real input needs.
        long padded = (long)input + padBefore + padAfter;
        if (padded > int.MaxValue)
            Guard.ThrowOutOfRange(padBefore == padAfter ? "pad" : nameof(padAfter), padAfter,
                $"pad {padBefore} + {padAfter} makes the padded input {axis} size {padded} (input {input}), more than {int.MaxValue}.");
        long extent = (long)dilation * (filter - 1) + 1, span = padded - extent;
        if (span < 0)
        {
            string filterText = dilation == 1 ? $"filter {axis} size {filter} is larger than"
                : $"filter {axis} size {filter} with dilation {dilation} spans {extent}, more than";
            Guard.Throw(nameof(filter), $"{filterText} the padded input {axis} size {padded} (input {input}, "
                + $"pad {PadText(padBefore, padAfter)}); the output would be below 1.");
        }
        long output = span / stride + 1;
        if (output > int.MaxValue) Guard.ThrowOutOfRange(nameof(input), output, $"output {axis} size {output} overflows int.");
        return (int)output;
    }

    private static string PadText(int before, int after) => before == after ? $"{before}" : $"{before} + {after}";

    /// <summary>
    /// Validates a convolution's shapes and returns the output shape (N, F, Hout, Wout).
    /// x: (N, C, H, W); w: (F, C / groups, HH, WW); bias length F; C and F divide by p.Groups.
    /// </summary>
    public static Shape4 Conv2DOutput(Shape4 x, Shape4 w, int biasLength, Conv2DParams p)
    {
        p.Validate(nameof(p));
        int groups = p.Groups;
        if (x.C % groups != 0)
            Guard.Throw("p", $"p.Groups must divide x's {x.C} channels but is {groups}.");
        if (w.N % groups != 0)
            Guard.Throw("w", $"w has {w.N} filters, which p.Groups ({groups}) must divide.");
        if (w.C != x.C / groups)
            Guard.Throw("w", groups == 1
                ? $"w has {w.C} input channels but x has {x.C}."
                : $"w has {w.C} input channels per filter but x's {x.C} channels in {groups} groups need {x.C / groups}.");
        if (biasLength != w.N)
            Guard.Throw("b", $"b has length {biasLength} but w has {w.N} filters.");
        int ho = OutputSize(x.H, w.H, p.StrideH, p.PadTop, p.PadBottom, p.DilationH, "H");
        int wo = OutputSize(x.W, w.W, p.StrideW, p.PadLeft, p.PadRight, p.DilationW, "W");
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
