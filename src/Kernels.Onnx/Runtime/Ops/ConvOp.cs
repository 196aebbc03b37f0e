namespace Kernels.Onnx.Runtime.Ops;

/// <summary>How Conv and the pools place their padding (ONNX auto_pad).</summary>
internal enum AutoPad { NotSet, SameUpper, SameLower, Valid }

/// <summary>Per spatial axis: explicit or automatic padding, resolved for an input size.</summary>
internal readonly record struct AxisPads(int Begin, int End)
{
    /// <summary>SAME_*: the output is ceil(size / stride), the padding split with the odd one at the end (upper) or start (lower).</summary>
    public static AxisPads Resolve(AutoPad auto, int size, int kernel, int stride, AxisPads explicitPads)
    {
        if (auto is AutoPad.NotSet) return explicitPads;
        if (auto is AutoPad.Valid) return new(0, 0);
        int output = (size + stride - 1) / stride;
        int total = Math.Max(0, (output - 1) * stride + kernel - size);
        int small = total / 2;
        return auto == AutoPad.SameUpper ? new(small, total - small) : new(total - small, small);
    }
}

/// <summary>
/// Conv (group 1, dilation 1) on <see cref="Conv2D"/> with prepared filters: symmetric padding goes to the kernel
/// as is; asymmetric or SAME_* padding first makes a zero-padded copy of the input.
/// </summary>
internal sealed class ConvOp(string node, int x, int output, float[] w, Shape4 ws, float[] b, int stride, AxisPads padH, AxisPads padW, AutoPad auto)
    : Op(node, [x], output)
{
    private PreparedConv2DFilters? _prepared;
    private AxisPads _h = padH, _w = padW;
    private float[] _weights = w, _bias = b;

    public Shape4 FilterShape => ws;

    /// <summary>Scales each filter and shifts its bias (a BatchNormalization folded in at load).</summary>
    public void Fold(ReadOnlySpan<float> scale, ReadOnlySpan<float> shift)
    {
        int per = ws.C * ws.H * ws.W;
        for (int f = 0; f < ws.N; f++)
        {
            for (int i = 0; i < per; i++) _weights[f * per + i] *= scale[f];
            _bias[f] = _bias[f] * scale[f] + shift[f];
        }
        _prepared = null;
    }

    private bool Symmetric => _h.Begin == _h.End && _w.Begin == _w.End && _h.Begin == _w.Begin;

    private int[] Padded(int[] x) => [x[0], x[1], x[2] + _h.Begin + _h.End, x[3] + _w.Begin + _w.End];

    public override int[] Infer(Values v)
    {
        int[] x = Rank(v, 0, 4, "X");
        if (x[1] != ws.C) throw Invalid($"W has {ws.C} input channels but X {Format(x)} has {x[1]}");
        _h = AxisPads.Resolve(auto, x[2], ws.H, stride, _h);
        _w = AxisPads.Resolve(auto, x[3], ws.W, stride, _w);
        int[] p = Padded(x);
        if (p[2] < ws.H || p[3] < ws.W) throw Invalid($"the {ws.H}x{ws.W} kernel does not fit the padded input {Format(p)}");
        var c = new Conv2DParams(stride, Symmetric ? _h.Begin : 0);
        Shape4 input = Symmetric ? As4(x) : As4(p);
        Shape4 y = Geometry.Conv2DOutput(input, ws, ws.N, c);
        _prepared ??= Conv2D.Prepare(new ReadOnlyNchwSpan<float>(_weights, ws), _bias, c, Conv2D.Choose(input, ws, c));
        return [y.N, y.C, y.H, y.W];
    }

    public override long ScratchLength(Values v) => Symmetric ? 0 : Elements(Padded(DimsOf(v, 0)));

    public override void Run(Values v, float[] scratch, int degree)
    {
        int[] x = DimsOf(v, 0);
        var y = new NchwSpan<float>(v.Data[Output], As4(v.Dims[Output]));
        if (Symmetric)
        {
            Conv2D.Forward(new ReadOnlyNchwSpan<float>(v.Data[Inputs[0]], As4(x)), _prepared!, y, degree);
            return;
        }
        var p = new Shape4(x[0], x[1], x[2] + _h.Begin + _h.End, x[3] + _w.Begin + _w.End);
        Span<float> padded = scratch.AsSpan(0, (int)p.Length);
        Padding.Copy(v.Data[Inputs[0]], x, padded, [p.N, p.C, p.H, p.W], [0, 0, _h.Begin, _w.Begin], 0f);
        Conv2D.Forward(new ReadOnlyNchwSpan<float>(padded, p), _prepared!, y, degree);
    }
}
