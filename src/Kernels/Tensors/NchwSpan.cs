using System.Numerics.Tensors;
using CommunityToolkit.HighPerformance;

namespace Kernels;

/// <summary>
/// A writable view of a dense, row-major NCHW tensor: a <see cref="Span{T}"/> whose length is exactly
/// <see cref="Shape4.Length"/>. It owns nothing; element (n, c, h, w) lives at <see cref="Shape4.Offset"/>.
/// </summary>
public readonly ref struct NchwSpan<T>
{
    /// <summary>The elements, row-major NCHW.</summary>
    public readonly Span<T> Span;
    /// <summary>The shape of the view.</summary>
    public readonly Shape4 Shape;

    /// <summary>Wraps <paramref name="span"/>; throws when its length differs from <paramref name="shape"/>'s element count.</summary>
    public NchwSpan(Span<T> span, Shape4 shape)
    {
        Guard.Length(span.Length, shape.Length, nameof(span), $"shape {shape}");
        Span = span;
        Shape = shape;
    }

    /// <summary>Wraps <paramref name="span"/> as a tensor of shape (n, c, h, w).</summary>
    public NchwSpan(Span<T> span, int n, int c, int h, int w) : this(span, new Shape4(n, c, h, w)) { }

    /// <summary>Element (n, c, h, w), bounds-checked by the span.</summary>
    public ref T this[int n, int c, int h, int w] => ref Span[Shape.Offset(n, c, h, w)];

    /// <summary>The H x W plane of image n, channel c.</summary>
    public Span<T> Plane(int n, int c) => Span.Slice((n * Shape.C + c) * Shape.PlaneLength, Shape.PlaneLength);

    /// <summary>The view read as an N x (C*H*W) matrix (the affine layer's view of its input).</summary>
    public Span2D<T> AsMatrix() => Span.AsSpan2D(Shape.N, Shape.ImageLength);

    /// <summary>The same memory as a <see cref="TensorSpan{T}"/> of lengths [N, C, H, W] (no copy).</summary>
    public TensorSpan<T> AsTensorSpan() => new(Span, [Shape.N, Shape.C, Shape.H, Shape.W]);

    /// <summary>A read-only view of the same memory.</summary>
    public static implicit operator ReadOnlyNchwSpan<T>(NchwSpan<T> view) => new(view.Span, view.Shape);

    /// <summary>
    /// Views a dense rank-4 <see cref="TensorSpan{T}"/> as NCHW without copying; throws <see cref="ArgumentException"/>
    /// when it is not rank 4 or not dense (strided views need a copy: use <see cref="TensorSpan{T}.FlattenTo"/>).
    /// </summary>
    public static NchwSpan<T> FromTensorSpan(in TensorSpan<T> tensor)
    {
        Shape4 shape = TensorInterop.ShapeOf(tensor.Rank, tensor.Lengths, tensor.IsDense, nameof(tensor));
        ReadOnlySpan<nint> origin = [0, 0, 0, 0];
        if (!tensor.TryGetSpan(origin, shape.Length, out Span<T> span))
            Guard.Throw(nameof(tensor), $"tensor with lengths {shape} is not contiguous.");
        return new NchwSpan<T>(span, shape);
    }
}

/// <summary>A read-only view of a dense, row-major NCHW tensor (see <see cref="NchwSpan{T}"/>).</summary>
public readonly ref struct ReadOnlyNchwSpan<T>
{
    /// <summary>The elements, row-major NCHW.</summary>
    public readonly ReadOnlySpan<T> Span;
    /// <summary>The shape of the view.</summary>
    public readonly Shape4 Shape;

    /// <summary>Wraps <paramref name="span"/>; throws when its length differs from <paramref name="shape"/>'s element count.</summary>
    public ReadOnlyNchwSpan(ReadOnlySpan<T> span, Shape4 shape)
    {
        Guard.Length(span.Length, shape.Length, nameof(span), $"shape {shape}");
        Span = span;
        Shape = shape;
    }

    /// <summary>Wraps <paramref name="span"/> as a tensor of shape (n, c, h, w).</summary>
    public ReadOnlyNchwSpan(ReadOnlySpan<T> span, int n, int c, int h, int w) : this(span, new Shape4(n, c, h, w)) { }

    /// <summary>Element (n, c, h, w), bounds-checked by the span.</summary>
    public T this[int n, int c, int h, int w] => Span[Shape.Offset(n, c, h, w)];

    /// <summary>The H x W plane of image n, channel c.</summary>
    public ReadOnlySpan<T> Plane(int n, int c) => Span.Slice((n * Shape.C + c) * Shape.PlaneLength, Shape.PlaneLength);

    /// <summary>The view read as an N x (C*H*W) matrix.</summary>
    public ReadOnlySpan2D<T> AsMatrix() => Span.AsSpan2D(Shape.N, Shape.ImageLength);

    /// <summary>The same memory as a <see cref="ReadOnlyTensorSpan{T}"/> of lengths [N, C, H, W] (no copy).</summary>
    public ReadOnlyTensorSpan<T> AsTensorSpan() => new(Span, [Shape.N, Shape.C, Shape.H, Shape.W]);

    /// <summary>Views a dense rank-4 <see cref="ReadOnlyTensorSpan{T}"/> as NCHW without copying.</summary>
    public static ReadOnlyNchwSpan<T> FromTensorSpan(in ReadOnlyTensorSpan<T> tensor)
    {
        Shape4 shape = TensorInterop.ShapeOf(tensor.Rank, tensor.Lengths, tensor.IsDense, nameof(tensor));
        ReadOnlySpan<nint> origin = [0, 0, 0, 0];
        if (!tensor.TryGetSpan(origin, shape.Length, out ReadOnlySpan<T> span))
            Guard.Throw(nameof(tensor), $"tensor with lengths {shape} is not contiguous.");
        return new ReadOnlyNchwSpan<T>(span, shape);
    }
}

internal static class TensorInterop
{
    public static Shape4 ShapeOf(int rank, ReadOnlySpan<nint> lengths, bool isDense, string name)
    {
        if (rank != 4) Guard.Throw(name, $"{name} has rank {rank} but an NCHW view needs rank 4.");
        if (!isDense) Guard.Throw(name, $"{name} is not dense; an NCHW view needs contiguous row-major memory.");
        for (int i = 0; i < 4; i++)
            if (lengths[i] < 1 || lengths[i] > int.MaxValue)
                Guard.ThrowOutOfRange(name, lengths[i], $"{name} has length {lengths[i]} in dimension {i} but each must be in [1, {int.MaxValue}].");
        return new Shape4((int)lengths[0], (int)lengths[1], (int)lengths[2], (int)lengths[3]);
    }
}
