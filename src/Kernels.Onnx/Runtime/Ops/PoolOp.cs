using System.Numerics.Tensors;

namespace Kernels.Onnx.Runtime.Ops;

/// <summary>
/// MaxPool, AveragePool (2-D, square stride, dilation 1) and GlobalAveragePool on <see cref="MaxPool2D"/> /
/// <see cref="AvgPool2D"/>: padding and ceil_mode become a padded copy (-inf for max, 0 for average) cut to the rows
/// the last window reads, and the average's divisor per output position (the cells of its window that count: inside
/// the input, or inside input and padding with count_include_pad) becomes a factor map applied after the kernel's
/// window-area mean. Pads must be smaller than the kernel (ONNX Runtime's and PyTorch's rule): a window of padding
/// alone has no value.
/// </summary>
internal sealed class PoolOp : Op
{
    private readonly bool _max, _global, _ceil, _countIncludePad;
    private readonly int _kh, _kw;
    private readonly Window _window;

    private PoolOp(OpContext c, bool max, bool global, int kh, int kw, Window window, bool ceil, bool countIncludePad)
        : base(c.Node, [c.Input(0)], c.SupportedOutputs(1))
    {
        (_max, _global, _kh, _kw, _window, _ceil, _countIncludePad) = (max, global, kh, kw, window, ceil, countIncludePad);
    }

    public static Op Global(OpContext c)
    {
        c.Attributes.OnlyKnown();
        c.Arity(1, 1);
        return new PoolOp(c, max: false, global: true, 0, 0, new Window(1, 1, default, default, AutoPad.NotSet), false, false);
    }

    public static Op Max(OpContext c)
    {
        // storage_order from opset 8, ceil_mode and dilations from 10.
        c.Attributes.OnlyKnown(c.Opset >= 10 ? ["auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"]
            : c.Opset >= 8 ? ["auto_pad", "kernel_shape", "pads", "storage_order", "strides"] : ["auto_pad", "kernel_shape",
                "pads", "strides"]);
        if (c.Attributes.Int("storage_order", 0) != 0) throw c.Attributes.Unsupported("storage_order", "= 1 (column-major indices)");
        return Windowed(c, max: true);
    }

    public static Op Average(OpContext c)
    {
        // count_include_pad from opset 7, ceil_mode from 10, dilations from 19.
        c.Attributes.OnlyKnown(c.Opset >= 19 ? ["auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads",
            "strides"]
            : c.Opset >= 10 ? ["auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"]
            : c.Opset >= 7 ? ["auto_pad", "count_include_pad", "kernel_shape", "pads", "strides"] : ["auto_pad", "kernel_shape",
                "pads", "strides"]);
        return Windowed(c, max: false);
    }

    private static PoolOp Windowed(OpContext c, bool max)
    {
        NodeAttributes a = c.Attributes;
        c.Arity(1, 1);
        if (a.Ints("dilations") is { } d && d.Any(v => v != 1)) throw a.Unsupported("dilations", $"= [{string.Join(",", d)}]");
        long[] k = a.Ints("kernel_shape") ?? throw a.Malformed("kernel_shape is missing");
        if (k.Length != 2) throw c.Unsupported($"kernel_shape has {k.Length} values; only 2-D pooling is supported");
        if (k.Any(v => v is < 1 or > int.MaxValue)) throw a.Malformed($"kernel_shape [{string.Join(",", k)}] must be positive " +
            $"and below 2^31");
        Window window = Window.Read(c, "2^29 or more");
        if (window.StrideH != window.StrideW) throw a.Unsupported("strides", $"= [{window.StrideH},{window.StrideW}] (different " +
            $"strides per axis)");
        if (window.H.Begin >= k[0] || window.H.End >= k[0] || window.W.Begin >= k[1] || window.W.End >= k[1])
            throw a.Unsupported("pads", $"= [{window.H.Begin},{window.W.Begin},{window.H.End},{window.W.End}] (not smaller than " +
                $"the {k[0]}x{k[1]} kernel)");
        return new PoolOp(c, max, global: false, (int)k[0], (int)k[1], window, a.Int("ceil_mode", 0) != 0,
            a.Int("count_include_pad", 0) != 0);
    }

    public override Step Plan(PlanContext p)
    {
        int[] x = Float(p, 0, "X", 4);
        (int kh, int kw) = _global ? (x[2], x[3]) : (_kh, _kw);
        if (_global && (kh == 0 || kw == 0)) throw Invalid($"X {Format(x)} has an empty plane");
        (AxisPads h, AxisPads w) = _window.Resolve(x[2], x[3], kh, kw);
        long outH = OutputSize(x[2], kh, h), outW = OutputSize(x[3], kw, w);
        if (outH < 1 || outW < 1) throw Invalid($"the {kh}x{kw} window does not fit X {Format(x)} with pads " +
            $"{h.Begin},{w.Begin},{h.End},{w.End}");
        p.Define(Output, [x[0], x[1], (int)outH, (int)outW], Node);
        int stride = _window.Stride;
        // Rows and columns the windows read: the padded copy's plane (within the padded input, so below 2^31 + 2^29).
        long reachH = (outH - 1) * stride + kh, reachW = (outW - 1) * stride + kw;
        bool plain = h == default && w == default && reachH <= x[2] && reachW <= x[3];
        Shape4? padded = null;
        if (!plain)
        {
            long length = Sizes.Elements([x[0], x[1], (int)Math.Min(reachH, int.MaxValue), (int)Math.Min(reachW, int.MaxValue)]);
            if (reachH > int.MaxValue || reachW > int.MaxValue || length > Array.MaxLength)
                throw Invalid($"the padded copy ({x[0]},{x[1]},{reachH},{reachW}) of X is more than one buffer can hold");
            padded = new Shape4(x[0], x[1], (int)reachH, (int)reachW);
        }
        float[]? factors = null;
        if (!_max)
        {
            p.Charge(outH * outW, Node, $"the divisor table of the {outH}x{outW} output plane");
            factors = Factors(x, (int)outH, (int)outW, kh, kw, h, w);
            if (Array.TrueForAll(factors, f => f == 1f)) factors = null;
        }
        return new PoolStep(this, new Pool2DParams(kh, kw, stride), padded, h.Begin, w.Begin, factors);
    }

    /// <summary>floor or ceil of (size + pads - kernel) / stride, plus one; in ceil mode the last window must start
    /// inside the input or the begin padding (PyTorch's and ONNX Runtime's rule).</summary>
    private long OutputSize(int size, int kernel, AxisPads pads)
    {
        long span = pads.Padded(size) - kernel;
        int stride = _window.Stride;
        if (span < 0) return 0;
        long output = (_ceil ? (span + stride - 1) / stride : span / stride) + 1;
        if (_ceil && (output - 1) * stride >= (long)size + pads.Begin) output--;
        return output;
    }

    /// <summary>Per output position, window area / the cells that count (1 where every cell counts).</summary>
    private float[] Factors(int[] x, int outH, int outW, int kh, int kw, AxisPads h, AxisPads w)
    {
        var factors = new float[(long)outH * outW];
        for (int i = 0; i < outH; i++)
            for (int j = 0; j < outW; j++)
                factors[(long)i * outW + j] = (float)((double)kh * kw / ((double)Counted(i, x[2], kh, h) * Counted(j, x[3], kw, w)));
        return factors;
    }

    private long Counted(int index, int size, int kernel, AxisPads pads)
    {
        long start = (long)index * _window.Stride - pads.Begin, end = start + kernel;
        long low = _countIncludePad ? -pads.Begin : 0, high = _countIncludePad ? (long)size + pads.End : size;
        return Math.Max(1, Math.Min(end, high) - Math.Max(start, low));
    }

    private sealed class PoolStep(PoolOp op, Pool2DParams pool, Shape4? padded, int top, int left, float[]? factors) : Step
    {
        public override long ScratchFloats => padded?.Length ?? 0;

        public override void Run(Frame f)
        {
            int[] x = f.Dims(op.Inputs[0]);
            var y = new NchwSpan<float>(f.Write(op.Output), As4(f.Dims(op.Output)));
            ReadOnlyNchwSpan<float> input = new(f.Read(op.Inputs[0]), As4(x));
            if (padded is Shape4 shape)
            {
                Span<float> copy = f.Scratch(shape.Length);
                Padding.Copy(input.Span, x, copy, [shape.N, shape.C, shape.H, shape.W], [0, 0, top, left], op._max
                    ? float.NegativeInfinity : 0f);
                input = new ReadOnlyNchwSpan<float>(copy, shape);
            }
            if (op._max)
            {
                MaxPool2D.Forward(input, pool, y, f.Degree);
                return;
            }
            AvgPool2D.Forward(input, pool, y, f.Degree);
            if (factors is null) return;
            for (int offset = 0; offset < y.Span.Length; offset += factors.Length)
                TensorPrimitives.Multiply(y.Span.Slice(offset, factors.Length), factors, y.Span.Slice(offset, factors.Length));
        }
    }
}
