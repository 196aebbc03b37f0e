namespace Kernels;

/// <summary>Convolution hyper-parameters: the same stride and zero padding along H and W.</summary>
/// <param name="Stride">Step between filter positions, in pixels (&gt;= 1).</param>
/// <param name="Pad">Zeros added on each side of H and W (&gt;= 0).</param>
public readonly record struct Conv2DParams(int Stride = 1, int Pad = 0)
{
    /// <summary>Stride 1, no padding (a plain <c>new Conv2DParams()</c> would otherwise be all zeros).</summary>
    public Conv2DParams() : this(1, 0) { }

    internal void Validate(string name)
    {
        if (Stride < 1) Guard.ThrowOutOfRange(name, Stride, $"{name}.Stride must be >= 1 but is {Stride}.");
        if (Pad < 0) Guard.ThrowOutOfRange(name, Pad, $"{name}.Pad must be >= 0 but is {Pad}.");
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
