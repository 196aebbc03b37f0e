namespace Kernels;

/// <summary>
/// Filters and bias already in the form one convolution algorithm multiplies with (packed GEMM panels with the bias,
/// or Winograd-transformed filters), for repeated calls with the same weights: inference on many batches, or a
/// layer between two updates. Made by <see cref="Conv2D.Prepare"/>; used by
/// <see cref="Conv2D.Forward(ReadOnlyNchwSpan{float}, PreparedConv2DFilters, NchwSpan{float}, int)"/>. It copies what
/// it needs: later changes to the original arrays do not reach it.
/// </summary>
public sealed class PreparedConv2DFilters
{
    internal PreparedConv2DFilters(Shape4 filterShape, Conv2DParams p, Conv2DAlgorithm algorithm, Conv2DAlgorithm form, float[] data, float[] bias)
    {
        (FilterShape, Params, Algorithm, Form, Data, Bias) = (filterShape, p, algorithm, form, data, bias);
    }

    /// <summary>(F, C, HH, WW) of the filters it was made from.</summary>
    public Shape4 FilterShape { get; }

    /// <summary>Stride and padding the filters were prepared for.</summary>
    public Conv2DParams Params { get; }

    /// <summary>The algorithm they were prepared for (Auto: Winograd-transformed if Auto picks Winograd for these
    /// filters on large planes, else packed for direct or im2col, picked per call by the input's width).</summary>
    public Conv2DAlgorithm Algorithm { get; }

    /// <summary>The algorithm whose form the filters are in (see <see cref="Convolution.IConvAlgorithm.FilterForm"/>).</summary>
    internal Conv2DAlgorithm Form { get; }

    /// <summary>Whether the filters are Winograd-transformed (else packed GEMM panels with the bias).</summary>
    internal bool Winograd => Form == Conv2DAlgorithm.Winograd;

    /// <summary>Floats held (the prepared form is larger than the filters: Winograd keeps 36 / 9 times their size).</summary>
    public long Length => Data.LongLength + Bias.LongLength;

    internal float[] Data { get; }
    internal float[] Bias { get; }
}
