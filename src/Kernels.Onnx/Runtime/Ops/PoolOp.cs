namespace Kernels.Onnx.Runtime.Ops;

/// <summary>
/// MaxPool and AveragePool (2-D, square stride, dilation 1) on <see cref="MaxPool2D"/> / <see cref="AvgPool2D"/>:
/// padding and ceil_mode become a padded copy (-inf for max, 0 for average) cut to the rows the last window reads,
/// and the average's divisor per output position (the cells of its window that count: inside the input, or inside
/// input and padding with count_include_pad) becomes a factor map applied after the kernel's window-area mean.
/// GlobalAveragePool is a window of the whole plane.
/// </summary>
internal sealed class PoolOp(string node, int x, int output, bool max, int kh, int kw, int stride, AxisPads padH, AxisPads padW,
    AutoPad auto, bool ceil, bool countIncludePad, bool global) : Op(node, [x], output)
{
    private AxisPads _h = padH, _w = padW;
    private int _kh = kh, _kw = kw, _outH, _outW;
    private float[] _factors = [];
    private bool _uniform;

    /// <summary>Rows and columns the windows read: the padded copy's plane.</summary>
    private (int H, int W) Reach => ((_outH - 1) * stride + _kh, (_outW - 1) * stride + _kw);

    // No padding and no ceil-mode window past the input: the kernel reads x itself.
    private bool Plain(int[] x) => _h == default && _w == default && Reach.H <= x[2] && Reach.W <= x[3];

    public override int[] Infer(Values v)
    {
        int[] x = Rank(v, 0, 4, "X");
        if (global) (_kh, _kw) = (x[2], x[3]);
        _h = AxisPads.Resolve(auto, x[2], _kh, stride, _h);
        _w = AxisPads.Resolve(auto, x[3], _kw, stride, _w);
        _outH = OutputSize(x[2], _kh, _h);
        _outW = OutputSize(x[3], _kw, _w);
        if (_outH < 1 || _outW < 1) throw Invalid($"the {_kh}x{_kw} window does not fit X {Format(x)} with pads {_h.Begin},{_w.Begin},{_h.End},{_w.End}");
        if (!max) _factors = Factors(x);
        _uniform = Array.TrueForAll(_factors, f => f == 1f);
        return [x[0], x[1], _outH, _outW];
    }

    /// <summary>floor or ceil of (size + pads - kernel) / stride, plus one; in ceil mode the last window must start inside the input or the begin padding (PyTorch's and ONNX Runtime's rule).</summary>
    private int OutputSize(int size, int kernel, AxisPads pads)
    {
        int span = size + pads.Begin + pads.End - kernel;
        if (span < 0) return 0;
        int output = (ceil ? (span + stride - 1) / stride : span / stride) + 1;
        if (ceil && (output - 1) * stride >= size + pads.Begin) output--;
        return output;
    }

    /// <summary>Per output position, window area / the cells that count (1 where every cell counts).</summary>
    private float[] Factors(int[] x)
    {
        var factors = new float[_outH * _outW];
        for (int i = 0; i < _outH; i++)
            for (int j = 0; j < _outW; j++)
            {
                int rows = Counted(i, x[2], _kh, _h), cols = Counted(j, x[3], _kw, _w);
                factors[i * _outW + j] = (float)(_kh * _kw) / (rows * cols);
            }
        return factors;
    }

    private int Counted(int index, int size, int kernel, AxisPads pads)
    {
        int start = index * stride - pads.Begin, end = start + kernel;
        int low = countIncludePad ? -pads.Begin : 0, high = countIncludePad ? size + pads.End : size;
        return Math.Max(1, Math.Min(end, high) - Math.Max(start, low));
    }

    public override long ScratchLength(Values v) => Plain(DimsOf(v, 0)) ? 0 : (long)DimsOf(v, 0)[0] * DimsOf(v, 0)[1] * Reach.H * Reach.W;

    public override void Run(Values v, float[] scratch, int degree)
    {
        int[] x = DimsOf(v, 0);
        var p = new Pool2DParams(_kh, _kw, stride);
        var y = new NchwSpan<float>(v.Data[Output], As4(v.Dims[Output]));
        ReadOnlyNchwSpan<float> input;
        if (Plain(x))
        {
            input = new ReadOnlyNchwSpan<float>(v.Data[Inputs[0]], As4(x));
        }
        else
        {
            var padded = new Shape4(x[0], x[1], Reach.H, Reach.W);
            Span<float> copy = scratch.AsSpan(0, (int)padded.Length);
            Padding.Copy(v.Data[Inputs[0]], x, copy, [padded.N, padded.C, padded.H, padded.W], [0, 0, _h.Begin, _w.Begin], max ? float.NegativeInfinity : 0f);
            input = new ReadOnlyNchwSpan<float>(copy, padded);
        }
        if (max)
        {
            MaxPool2D.Forward(input, p, y, degree);
            return;
        }
        AvgPool2D.Forward(input, p, y, degree);
        if (_uniform) return;
        int plane = _outH * _outW;
        for (int offset = 0; offset < y.Span.Length; offset += plane)
            System.Numerics.Tensors.TensorPrimitives.Multiply(y.Span.Slice(offset, plane), _factors, y.Span.Slice(offset, plane));
    }
}
