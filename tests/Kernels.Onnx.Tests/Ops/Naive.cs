namespace Kernels.Onnx.Tests.Ops;

/// <summary>
/// Textbook oracles of the shape ops on row-major arrays, written from the ONNX operator text: every output element
/// is found by its multi-index, one element at a time, with no merging of dims and no block copies. Values are
/// doubles so one oracle serves float values and int64 ones (small integers, exact in both).
/// </summary>
internal static class Naive
{
    public static long Count(int[] dims) => dims.Aggregate(1L, (n, d) => n * d);

    public static int[] Unravel(long flat, int[] dims)
    {
        var index = new int[dims.Length];
        for (int k = dims.Length - 1; k >= 0; k--)
        {
            index[k] = (int)(flat % dims[k]);
            flat /= dims[k];
        }
        return index;
    }

    public static long Ravel(int[] index, int[] dims)
    {
        long flat = 0;
        for (int k = 0; k < dims.Length; k++) flat = flat * dims[k] + index[k];
        return flat;
    }

    /// <summary>y[i] = x[source(multi-index of i)], y of dims <paramref name="y"/>.</summary>
    public static double[] Map(int[] y, Func<int[], long> source, double[] x)
    {
        var result = new double[Count(y)];
        for (long i = 0; i < result.Length; i++) result[i] = x[source(Unravel(i, y))];
        return result;
    }

    public static (int[] Dims, double[] Data) Transpose(double[] x, int[] dims, int[] perm)
    {
        int[] y = [.. perm.Select(p => dims[p])];
        return (y, Map(y, index =>
        {
            var at = new int[dims.Length];
            for (int k = 0; k < perm.Length; k++) at[perm[k]] = index[k];
            return Ravel(at, dims);
        }, x));
    }

    /// <summary>The indices Slice takes on a dim of n: the ONNX text's clamping, then start, start + step, ... before end.</summary>
    public static List<int> Taken(long start, long end, long step, int n)
    {
        var taken = new List<int>();
        if (start < 0) start += n;
        if (end < 0) end += n;
        if (step > 0)
        {
            start = Math.Clamp(start, 0, n);
            end = Math.Clamp(end, 0, n);
            for (long i = start; i < end; i = i > long.MaxValue - step ? long.MaxValue : i + step) taken.Add((int)i);
        }
        else
        {
            start = Math.Clamp(start, 0, n - 1);
            end = Math.Clamp(end, -1, n - 1);
            for (long i = start; i > end; i = i < long.MinValue - step ? long.MinValue : i + step) taken.Add((int)i);
        }
        return taken;
    }

    public static (int[] Dims, double[] Data) Slice(double[] x, int[] dims, long[] starts, long[] ends, int[] axes, long[] steps)
    {
        List<int>[] taken = [.. dims.Select(n => Enumerable.Range(0, n).ToList())];
        for (int i = 0; i < axes.Length; i++) taken[axes[i]] = Taken(starts[i], ends[i], steps[i], dims[axes[i]]);
        int[] y = [.. taken.Select(t => t.Count)];
        return (y, Map(y, index => Ravel([.. index.Select((j, k) => taken[k][j])], dims), x));
    }

    /// <summary>numpy broadcasting of x to the shape: aligned at the end, a 1 on either side takes the other's dim.</summary>
    public static (int[] Dims, double[] Data) Expand(double[] x, int[] dims, long[] shape)
    {
        int rank = Math.Max(dims.Length, shape.Length);
        int[] y = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int k = i - (rank - dims.Length), j = i - (rank - shape.Length);
            long a = k >= 0 ? dims[k] : 1, b = j >= 0 ? shape[j] : 1;
            y[i] = (int)(a == 1 ? b : a);
        }
        return (y, Map(y, index => Ravel([.. dims.Select((d, k) => d == 1 ? 0 : index[k + rank - dims.Length])], dims), x));
    }

    public static (int[] Dims, double[] Data) Gather(double[] x, int[] dims, long[] indices, int[] indexDims, int axis)
    {
        int[] y = [.. dims[..axis], .. indexDims, .. dims[(axis + 1)..]];
        return (y, Map(y, index =>
        {
            long i = indices[Ravel(index[axis..(axis + indexDims.Length)], indexDims)];
            int[] at = [.. index[..axis], (int)(i < 0 ? i + dims[axis] : i), .. index[(axis + indexDims.Length)..]];
            return Ravel(at, dims);
        }, x));
    }

    /// <summary>Sum, mean or max over the axes, kept as 1s or dropped, accumulated in double.</summary>
    public static (int[] Dims, double[] Data) Reduce(string kind, double[] x, int[] dims, int[] axes, bool keep)
    {
        int[] kept = [.. dims.Select((d, k) => axes.Contains(k) ? 1 : d)];
        var sums = new double[Count(kept)];
        var counts = new long[sums.Length];
        Array.Fill(sums, kind == "ReduceMax" ? double.NegativeInfinity : 0);
        for (long i = 0; i < x.Length; i++)
        {
            int[] index = Unravel(i, dims);
            long o = Ravel([.. index.Select((j, k) => axes.Contains(k) ? 0 : j)], kept);
            sums[o] = kind == "ReduceMax" ? Math.Max(sums[o], x[i]) : sums[o] + x[i];
            counts[o]++;
        }
        if (kind == "ReduceMean")
            for (int o = 0; o < sums.Length; o++) sums[o] /= counts[o];
        return (keep ? kept : [.. dims.Where((_, k) => !axes.Contains(k))], sums);
    }

    public static (int[] Dims, double[] Data) Concat((int[] Dims, double[] Data)[] inputs, int axis)
    {
        int[] y = (int[])inputs[0].Dims.Clone();
        y[axis] = inputs.Sum(i => i.Dims[axis]);
        var result = new double[Count(y)];
        for (long i = 0; i < result.Length; i++)
        {
            int[] index = Unravel(i, y);
            int input = 0;
            while (index[axis] >= inputs[input].Dims[axis]) index[axis] -= inputs[input++].Dims[axis];
            result[i] = inputs[input].Data[Ravel(index, inputs[input].Dims)];
        }
        return (y, result);
    }
}
