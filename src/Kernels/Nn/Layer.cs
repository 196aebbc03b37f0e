using System.Numerics;

namespace Kernels.Nn;

/// <summary>
/// A layer of a network: it owns its parameters, their gradients and its output and input-gradient buffers, which
/// it reuses across calls of the same batch shape (no allocation per step). The tensor returned by
/// <see cref="Forward"/> or <see cref="Backward"/> belongs to the layer and is valid until its next call.
/// <see cref="Backward"/> uses the input of the last <see cref="Forward"/>, which must still hold the same values.
/// </summary>
public abstract class Layer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The output shape for an input shape; throws <see cref="ArgumentException"/> when the input does not fit.</summary>
    public abstract Shape4 OutputShape(Shape4 input);

    /// <summary>Trainable parameters (empty for parameter-free layers).</summary>
    public virtual IReadOnlyList<Parameter<T>> Parameters => [];

    /// <summary>
    /// State that is not trained by gradients but belongs in a checkpoint (batch norm's running statistics; PyTorch's
    /// buffers): save and load <c>[.. Parameters, .. Buffers]</c>. Update rules never see them (their Grad is unused).
    /// </summary>
    public virtual IReadOnlyList<Parameter<T>> Buffers => [];

    /// <summary>
    /// Training mode (the default) or eval mode (false): layers whose forward pass differs (batch norm) read it on
    /// every <see cref="Forward"/>. <see cref="Sequential{T}"/> passes it to its layers.
    /// </summary>
    public virtual bool Training { get; set; } = true;

    /// <summary>Runs the layer on x (kept for <see cref="Backward"/>).</summary>
    public abstract NchwTensor<T> Forward(NchwTensor<T> x);

    /// <summary>Given dL/d(output), fills every parameter's gradient (overwriting) and returns dL/d(input).</summary>
    public abstract NchwTensor<T> Backward(NchwTensor<T> dout);

    /// <summary>A buffer of the given shape, reallocated only when the shape changes.</summary>
    protected static NchwTensor<T> Reuse(ref NchwTensor<T>? slot, Shape4 shape)
    {
        if (slot is null || slot.Shape != shape) slot = NchwTensor<T>.Create(shape);
        return slot;
    }

    /// <summary>The input kept by Forward; throws if Backward comes first.</summary>
    protected static NchwTensor<T> Saved(NchwTensor<T>? input) =>
        input ?? throw new InvalidOperationException("Backward was called before Forward.");
}
