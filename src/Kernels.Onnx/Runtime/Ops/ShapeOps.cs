namespace Kernels.Onnx.Runtime.Ops;

/// <summary>
/// Flatten, Reshape (a constant shape), Identity and Dropout (inference: identity): the output is the input's
/// buffer under new dims, no copy.
/// </summary>
internal sealed class ViewOp(string node, int x, int output, Func<int[], int[]> dims) : Op(node, [x], output)
{
    public override bool Aliases => true;

    public override int[] Infer(Values v) => dims(DimsOf(v, 0));

    public override void Run(Values v, float[] scratch, int degree) { } // the plan shares the buffer

    public static ViewOp Identity(string node, int x, int output) => new(node, x, output, d => d);

    /// <summary>Flatten: (d0..d[axis-1]) x (d[axis]..), axis in [-rank, rank].</summary>
    public static ViewOp Flatten(string node, int x, int output, long axis) => new(node, x, output, d =>
    {
        long a = axis < 0 ? axis + d.Length : axis;
        if (a < 0 || a > d.Length) throw new InvalidDataException($"{node}: axis {axis} is outside [-{d.Length}, {d.Length}] for X {Format(d)}.");
        return [(int)Elements(d.AsSpan(0, (int)a)), (int)Elements(d.AsSpan((int)a))];
    });

    /// <summary>Reshape: 0 copies the input's dimension (allowzero 0), one -1 takes what is left.</summary>
    public static ViewOp Reshape(string node, int x, int output, long[] shape) => new(node, x, output, d =>
    {
        var result = new int[shape.Length];
        int infer = -1;
        long known = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            long s = shape[i];
            if (s == -1)
            {
                if (infer >= 0) throw new InvalidDataException($"{node}: shape {Format(shape)} has more than one -1.");
                infer = i;
                continue;
            }
            if (s == 0)
            {
                if (i >= d.Length) throw new InvalidDataException($"{node}: shape {Format(shape)} copies dimension {i} (0) but X {Format(d)} has rank {d.Length}.");
                s = d[i];
            }
            if (s < 0 || s > int.MaxValue) throw new InvalidDataException($"{node}: shape {Format(shape)} has dimension {s}.");
            result[i] = (int)s;
            known *= s;
            if (known > int.MaxValue) throw new InvalidDataException($"{node}: shape {Format(shape)} has more than 2^31 elements.");
        }
        long total = Elements(d);
        if (infer >= 0)
        {
            if (known == 0 || total % known != 0) throw new InvalidDataException($"{node}: X {Format(d)} has {total} elements, which shape {Format(shape)} cannot hold.");
            result[infer] = (int)(total / known);
        }
        else if (known != total) throw new InvalidDataException($"{node}: X {Format(d)} has {total} elements but shape {Format(shape)} has {known}.");
        return result;
    });
}

/// <summary>Concat along one axis: per outer index, each input's block in input order.</summary>
internal sealed class ConcatOp(string node, int[] inputs, int output, long axis) : Op(node, inputs, output)
{
    private int _axis;

    public override int[] Infer(Values v)
    {
        int[] first = DimsOf(v, 0);
        long a = axis < 0 ? axis + first.Length : axis;
        if (a < 0 || a >= first.Length) throw Invalid($"axis {axis} is outside [-{first.Length}, {first.Length - 1}]");
        _axis = (int)a;
        int[] result = (int[])first.Clone();
        result[_axis] = 0;
        for (int i = 0; i < Inputs.Length; i++)
        {
            int[] d = DimsOf(v, i);
            if (d.Length != first.Length) throw Invalid($"input {i} has rank {d.Length} but input 0 has rank {first.Length}");
            for (int k = 0; k < d.Length; k++)
                if (k != _axis && d[k] != first[k]) throw Invalid($"input {i} {Format(d)} differs from input 0 {Format(first)} in dimension {k}");
            result[_axis] += d[_axis];
        }
        return result;
    }

    public override void Run(Values v, float[] scratch, int degree)
    {
        int[] y = v.Dims[Output];
        int outer = (int)Elements(y.AsSpan(0, _axis)), inner = (int)Elements(y.AsSpan(_axis + 1));
        Span<float> dst = v.Data[Output];
        int offset = 0, row = y[_axis] * inner;
        for (int i = 0; i < Inputs.Length; i++)
        {
            int block = DimsOf(v, i)[_axis] * inner;
            ReadOnlySpan<float> src = v.Data[Inputs[i]];
            for (int o = 0; o < outer; o++) src.Slice(o * block, block).CopyTo(dst.Slice(o * row + offset, block));
            offset += block;
        }
    }
}

/// <summary>Pad, constant mode, non-negative pads, rank up to 4.</summary>
internal sealed class PadOp(string node, int x, int output, long[] pads, float value) : Op(node, [x], output)
{
    public override int[] Infer(Values v)
    {
        int[] d = DimsOf(v, 0);
        if (d.Length > 4) throw new NotSupportedException($"{Node}: X has rank {d.Length}; Pad supports rank 1-4.");
        if (pads.Length != 2 * d.Length) throw Invalid($"pads has {pads.Length} values but X {Format(d)} needs {2 * d.Length}");
        var result = new int[d.Length];
        for (int i = 0; i < d.Length; i++)
        {
            if (pads[i] < 0 || pads[i + d.Length] < 0) throw new NotSupportedException($"{Node}: negative pads (cropping) are not supported.");
            long size = d[i] + pads[i] + pads[i + d.Length];
            if (size > int.MaxValue) throw Invalid($"padding dimension {i} gives {size} elements");
            result[i] = (int)size;
        }
        return result;
    }

    public override void Run(Values v, float[] scratch, int degree)
    {
        int[] d = DimsOf(v, 0);
        Span<int> begin = stackalloc int[d.Length];
        for (int i = 0; i < d.Length; i++) begin[i] = (int)pads[i];
        Padding.Copy(v.Data[Inputs[0]], d, v.Data[Output], v.Dims[Output], begin, value);
    }
}
