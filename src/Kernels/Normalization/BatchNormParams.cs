namespace Kernels;

/// <summary>Batch normalization hyper-parameters (PyTorch's defaults).</summary>
/// <param name="Epsilon">Added to the variance before the square root (&gt; 0, finite).</param>
/// <param name="Momentum">Weight of the batch statistic in the running averages, in [0, 1].</param>
public readonly record struct BatchNormParams(double Epsilon = 1e-5, double Momentum = 0.1)
{
    /// <summary>eps 1e-5, momentum 0.1 (a plain <c>new BatchNormParams()</c> would otherwise be all zeros).</summary>
    public BatchNormParams() : this(1e-5, 0.1) { }

    internal void Validate(string name)
    {
        if (!(Epsilon > 0) || !double.IsFinite(Epsilon)) Guard.ThrowOutOfRange(name, Epsilon, $"{name}.Epsilon must be a finite " +
            $"number > 0 but is {Epsilon}.");
        if (!(Momentum >= 0 && Momentum <= 1)) Guard.ThrowOutOfRange(name, Momentum, $"{name}.Momentum must be in [0, 1] but is " +
            $"{Momentum}.");
    }
}
