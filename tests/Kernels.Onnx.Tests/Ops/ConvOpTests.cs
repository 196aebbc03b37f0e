using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Kernels.Onnx.Export;

namespace Kernels.Onnx.Tests.Ops;

/// <summary>Conv as ONNX defines it (groups, dilations and strides per axis, asymmetric pads, auto_pad) against a naive double oracle.</summary>
public class ConvOpTests
{
    [Property(MaxTest = 120)]
    public Property Conv_with_every_parameter_matches_the_naive_oracle() =>
        Prop.ForAll(
            (from groups in Gen.Choose(1, 3)
             from cg in Gen.Choose(1, 2)
             from fg in Gen.Choose(1, 3)
             from kh in Gen.Choose(1, 3)
             from kw in Gen.Choose(1, 3)
             from dh in Gen.Choose(1, 2)
             from dw in Gen.Choose(1, 3)
             from sh in Gen.Choose(1, 3)
             from sw in Gen.Choose(1, 2)
             from pads in Gen.ArrayOf(Gen.Choose(0, 2), 4)
             from h in Gen.Choose(1, 9)
             from w in Gen.Choose(1, 19)
             from n in Gen.Choose(1, 2)
             from auto in Gen.Elements("NOTSET", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")
             select (groups, cg, fg, kh, kw, dh, dw, sh, sw, pads, h, w, n, auto)).ToArbitrary(),
            c =>
            {
                int c_in = c.groups * c.cg, f = c.groups * c.fg, spanH = c.dh * (c.kh - 1) + 1, spanW = c.dw * (c.kw - 1) + 1;
                (int top, int bottom, int left, int right) = c.auto switch
                {
                    "VALID" => (0, 0, 0, 0),
                    "NOTSET" => (c.pads[0], c.pads[2], c.pads[1], c.pads[3]),
                    _ => Same(c.h, spanH, c.sh, c.auto) is var (t, bo) && Same(c.w, spanW, c.sw, c.auto) is var (l, r) ? (t, bo, l, r) : default,
                };
                int ph = c.h + top + bottom, pw = c.w + left + right;
                var random = new Random(c.h * 31 + c.w);
                float[] x = [.. Enumerable.Range(0, c.n * c_in * c.h * c.w).Select(_ => (float)random.NextDouble() - 0.5f)];
                float[] wt = [.. Enumerable.Range(0, f * c.cg * c.kh * c.kw).Select(_ => (float)random.NextDouble() - 0.5f)];
                float[] b = [.. Enumerable.Range(0, f).Select(i => i * 0.25f)];
                byte[] model = new GraphWriter().Input("x", -1, c_in, c.h, c.w).Initializer("w", [f, c.cg, c.kh, c.kw], wt).Initializer("b", [f], b)
                    .Node("Conv", ["x", "w", "b"], "y", new("group", (long)c.groups), new("dilations", Ints: [c.dh, c.dw]), new("strides", Ints: [c.sh, c.sw]),
                        c.auto == "NOTSET" ? new NodeAttribute("pads", Ints: [c.pads[0], c.pads[1], c.pads[2], c.pads[3]]) : new NodeAttribute("auto_pad", Text: c.auto))
                    .Output("y", -1, f, -1, -1).ToBytes();
                if (ph < spanH || pw < spanW)
                {
                    Assert.Throws<InvalidDataException>(() => OnnxModel.Load(model, "conv.onnx"));
                    return;
                }
                int outH = (ph - spanH) / c.sh + 1, outW = (pw - spanW) / c.sw + 1;
                OnnxModel m = OnnxModel.Load(model, "conv.onnx");
                float[] y = new float[m.OutputLength(c.n)];
                Assert.Equal(c.n * f * outH * outW, y.Length);
                m.Run(x, y);
                for (int img = 0; img < c.n; img++)
                    for (int k = 0; k < f; k++)
                        for (int i = 0; i < outH; i++)
                            for (int j = 0; j < outW; j++)
                            {
                                double sum = b[k], abs = Math.Abs(b[k]);
                                int g = k / c.fg;
                                for (int ch = 0; ch < c.cg; ch++)
                                    for (int r = 0; r < c.kh; r++)
                                        for (int s = 0; s < c.kw; s++)
                                        {
                                            int row = i * c.sh - top + r * c.dh, col = j * c.sw - left + s * c.dw;
                                            if (row < 0 || row >= c.h || col < 0 || col >= c.w) continue;
                                            double p = (double)x[((img * c_in + g * c.cg + ch) * c.h + row) * c.w + col] * wt[((k * c.cg + ch) * c.kh + r) * c.kw + s];
                                            (sum, abs) = (sum + p, abs + Math.Abs(p));
                                        }
                                float actual = y[((img * f + k) * outH + i) * outW + j];
                                Assert.True(Math.Abs(actual - sum) <= Tolerance.SumBound(c.cg * c.kh * c.kw, abs), $"y[{img},{k},{i},{j}] = {actual}, expected {sum}");
                            }
            });

    /// <summary>SAME_UPPER / SAME_LOWER: output ceil(size / stride), the odd pad at the end (upper) or the start (lower).</summary>
    private static (int Begin, int End) Same(int size, int span, int stride, string auto)
    {
        int output = (size + stride - 1) / stride, total = Math.Max(0, (output - 1) * stride + span - size), small = total / 2;
        return auto == "SAME_UPPER" ? (small, total - small) : (total - small, small);
    }
}
