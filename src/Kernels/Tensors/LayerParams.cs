namespace Kernels;

/// <summary>
/// Convolution hyper-parameters as PyTorch and ONNX have them: stride, zero padding and dilation per axis, and groups.
/// <c>new Conv2DParams(stride, pad)</c> means the same stride and padding on both axes, dilation 1 and one group; the
/// per-axis values are init properties (<c>new Conv2DParams(1, 1) { Groups = 32 }</c>,
/// <c>p with { DilationH = 2, DilationW = 2 }</c>). Output size per axis:
/// <c>Hout = floor((H + PadTop + PadBottom - DilationH * (HH - 1) - 1) / StrideH) + 1</c>. With groups G the image's C
/// channels and the F filters split into G equal groups; filter f sees channels of its group only, so w is
/// (F, C / G, HH, WW).
/// </summary>
public readonly record struct Conv2DParams
{
    /// <summary>Stride 1, no padding, dilation 1, one group (a plain <c>default</c> would be all zeros).</summary>
    public Conv2DParams() : this(1, 0) { }

    /// <summary>The same stride and zero padding on both axes (and on all four sides), dilation 1, one group.</summary>
    /// <param name="Stride">Step between filter positions, in pixels (&gt;= 1).</param>
    /// <param name="Pad">Zeros added on each side of H and W (&gt;= 0).</param>
    public Conv2DParams(int Stride = 1, int Pad = 0)
    {
        (StrideH, StrideW) = (Stride, Stride);
        (PadTop, PadBottom, PadLeft, PadRight) = (Pad, Pad, Pad, Pad);
        (DilationH, DilationW, Groups) = (1, 1, 1);
    }

    /// <summary>Step between filter positions along H (&gt;= 1).</summary>
    public int StrideH { get; init; }

    /// <summary>Step between filter positions along W (&gt;= 1).</summary>
    public int StrideW { get; init; }

    /// <summary>Zero rows above the image (&gt;= 0).</summary>
    public int PadTop { get; init; }

    /// <summary>Zero rows below the image (&gt;= 0).</summary>
    public int PadBottom { get; init; }

    /// <summary>Zero columns left of the image (&gt;= 0).</summary>
    public int PadLeft { get; init; }

    /// <summary>Zero columns right of the image (&gt;= 0).</summary>
    public int PadRight { get; init; }

    /// <summary>Spacing between filter taps along H (&gt;= 1; 1 is a plain convolution).</summary>
    public int DilationH { get; init; }

    /// <summary>Spacing between filter taps along W (&gt;= 1).</summary>
    public int DilationW { get; init; }

    /// <summary>Groups of channels and filters (&gt;= 1; C and F must divide by it; C groups is a depthwise convolution).</summary>
    public int Groups { get; init; }

    /// <summary>The stride of both axes; reading it throws <see cref="InvalidOperationException"/> when they differ.</summary>
    public int Stride
    {
        get => StrideH == StrideW ? StrideH
            : throw new InvalidOperationException($"Stride is {StrideH} along H and {StrideW} along W; read StrideH and StrideW.");
        init => (StrideH, StrideW) = (value, value);
    }

    /// <summary>The padding of all four sides; reading it throws <see cref="InvalidOperationException"/> when they differ.</summary>
    public int Pad
    {
        get => HasSymmetricPad ? PadTop
            : throw new InvalidOperationException($"Pad is {PadTop}/{PadBottom} (top/bottom) and {PadLeft}/{PadRight} " +
                $"(left/right); read the sides.");
        init => (PadTop, PadBottom, PadLeft, PadRight) = (value, value, value, value);
    }

    /// <summary>The dilation of both axes; reading it throws <see cref="InvalidOperationException"/> when they differ.</summary>
    public int Dilation
    {
        get => DilationH == DilationW ? DilationH
            : throw new InvalidOperationException($"Dilation is {DilationH} along H and {DilationW} along W; read DilationH and " +
                $"DilationW.");
        init => (DilationH, DilationW) = (value, value);
    }

    /// <summary>Whether all four sides have the same padding.</summary>
    public bool HasSymmetricPad => PadTop == PadBottom && PadTop == PadLeft && PadTop == PadRight;

    /// <summary>Stride and dilation equal on both axes, padding equal on all sides, one group: what <c>(Stride,
    /// Pad)</c> alone says.</summary>
    internal bool IsPlain => StrideH == StrideW && HasSymmetricPad && DilationH == 1 && DilationW == 1 && Groups == 1;

    /// <summary>
    /// "stride 2 and pad 1" for plain parameters, else every per-axis value: what error messages and
    /// <see cref="ToString"/> show.
    /// </summary>
    internal string Describe() => IsPlain
        ? $"stride {StrideH} and pad {PadTop}"
        : $"stride {StrideH}x{StrideW}, pad {PadTop}/{PadBottom}/{PadLeft}/{PadRight} (top/bottom/left/right), "
          + $"dilation {DilationH}x{DilationW} and {Groups} group{(Groups == 1 ? "" : "s")}";

    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append($"StrideH = {StrideH}, StrideW = {StrideW}, PadTop = {PadTop}, PadBottom = {PadBottom}, PadLeft = {PadLeft}, ");
        builder.Append($"PadRight = {PadRight}, DilationH = {DilationH}, DilationW = {DilationW}, Groups = {Groups}");
        return true;
    }

    internal void Validate(string name)
    {
        if (StrideH < 1) Guard.ThrowOutOfRange(name, StrideH, $"{name}.StrideH must be >= 1 but is {StrideH}.");
        if (StrideW < 1) Guard.ThrowOutOfRange(name, StrideW, $"{name}.StrideW must be >= 1 but is {StrideW}.");
        if (PadTop < 0) Guard.ThrowOutOfRange(name, PadTop, $"{name}.PadTop must be >= 0 but is {PadTop}.");
        if (PadBottom < 0) Guard.ThrowOutOfRange(name, PadBottom, $"{name}.PadBottom must be >= 0 but is {PadBottom}.");
        if (PadLeft < 0) Guard.ThrowOutOfRange(name, PadLeft, $"{name}.PadLeft must be >= 0 but is {PadLeft}.");
        if (PadRight < 0) Guard.ThrowOutOfRange(name, PadRight, $"{name}.PadRight must be >= 0 but is {PadRight}.");
        if (DilationH < 1) Guard.ThrowOutOfRange(name, DilationH, $"{name}.DilationH must be >= 1 but is {DilationH}.");
        if (DilationW < 1) Guard.ThrowOutOfRange(name, DilationW, $"{name}.DilationW must be >= 1 but is {DilationW}.");
        if (Groups < 1) Guard.ThrowOutOfRange(name, Groups, $"{name}.Groups must be >= 1 but is {Groups}.");
    }
}

/// <summary>Pooling hyper-parameters: a PoolHeight x PoolWidth window moved by Stride along H and W, no padding.</summary>
/// <param name="PoolHeight">Window rows (&gt;= 1).</param>
/// <param name="PoolWidth">Window columns (&gt;= 1).</param>
/// <param name="Stride">Step between windows (&gt;= 1); windows overlap when it is below the window size.</param>
public readonly record struct Pool2DParams(int PoolHeight = 2, int PoolWidth = 2, int Stride = 2)
{
    /// <summary>2x2 windows with stride 2 (a plain <c>new Pool2DParams()</c> would otherwise be all zeros).</summary>
    public Pool2DParams() : this(2, 2, 2) { }

    internal void Validate(string name)
    {
        if (PoolHeight < 1) Guard.ThrowOutOfRange(name, PoolHeight, $"{name}.PoolHeight must be >= 1 but is {PoolHeight}.");
        if (PoolWidth < 1) Guard.ThrowOutOfRange(name, PoolWidth, $"{name}.PoolWidth must be >= 1 but is {PoolWidth}.");
        if (Stride < 1) Guard.ThrowOutOfRange(name, Stride, $"{name}.Stride must be >= 1 but is {Stride}.");
    }
}

/// <summary>Which operand of a matrix product is read transposed.</summary>
public enum MatrixTranspose
{
    /// <summary>Use the matrix as stored.</summary>
    None,
    /// <summary>Use the transpose of the stored matrix.</summary>
    Transpose,
}
