using System.Buffers;
using System.Numerics.Tensors;

namespace Kernels;

/// <summary>
/// A small owning NCHW tensor, backed by a plain array (<see cref="Create"/>) or by an array rented from
/// <see cref="ArrayPool{T}.Shared"/> (<see cref="Rent"/>, returned on <see cref="Dispose"/>).
/// </summary>
public sealed class NchwTensor<T> : IDisposable
{
    private T[]? _array;
    private readonly bool _pooled;

    private NchwTensor(T[] array, Shape4 shape, bool pooled)
    {
        _array = array;
        Shape = shape;
        _pooled = pooled;
    }

    /// <summary>The tensor's shape.</summary>
    public Shape4 Shape { get; }

    /// <summary>A zero-filled tensor on a new array.</summary>
    public static NchwTensor<T> Create(Shape4 shape) => new(new T[shape.Length], shape, pooled: false);

    /// <summary>Wraps an existing array (no copy); its length must equal the shape's element count.</summary>
    public static NchwTensor<T> Wrap(T[] array, Shape4 shape)
    {
        ArgumentNullException.ThrowIfNull(array);
        Guard.Length(array.Length, shape.Length, nameof(array), $"shape {shape}");
        return new(array, shape, pooled: false);
    }

    /// <summary>A zero-filled tensor on a pooled array; dispose it to return the array.</summary>
    public static NchwTensor<T> Rent(Shape4 shape)
    {
        T[] array = ArrayPool<T>.Shared.Rent(shape.Length);
        System.Array.Clear(array, 0, shape.Length);
        return new(array, shape, pooled: true);
    }

    /// <summary>The elements, row-major NCHW (exactly <see cref="Shape4.Length"/> of them).</summary>
    public Span<T> Span => Storage.AsSpan(0, Shape.Length);

    /// <summary>A writable view.</summary>
    public NchwSpan<T> View => new(Span, Shape);

    /// <summary>A read-only view.</summary>
    public ReadOnlyNchwSpan<T> ReadOnlyView => new(Span, Shape);

    /// <summary>Element (n, c, h, w).</summary>
    public ref T this[int n, int c, int h, int w] => ref Span[Shape.Offset(n, c, h, w)];

    /// <summary>
    /// The same memory as a <see cref="Tensor{T}"/> of lengths [N, C, H, W]. No copy when the array is exactly the
    /// tensor's length; a pooled array may be longer, and is then copied.
    /// </summary>
    public Tensor<T> ToTensor()
    {
        ReadOnlySpan<nint> lengths = [Shape.N, Shape.C, Shape.H, Shape.W];
        return Storage.Length != Shape.Length ? Tensor.Create(Span.ToArray(), lengths) : Tensor.Create(Storage, lengths);
    }

    /// <summary>
    /// The same elements under another shape with the same element count (e.g. (N, C, H, W) as (N, C*H*W, 1, 1)).
    /// The result shares this tensor's array and never returns it to the pool.
    /// </summary>
    public NchwTensor<T> Reshape(Shape4 shape)
    {
        Guard.Length(shape.Length, Shape.Length, nameof(shape), $"a reshape of {Shape}");
        return new(Storage, shape, pooled: false);
    }

    /// <summary>Copies a rank-4 <see cref="ReadOnlyTensorSpan{T}"/> (dense or strided) into a new array-backed tensor.</summary>
    public static NchwTensor<T> FromTensorSpan(in ReadOnlyTensorSpan<T> tensor)
    {
        Shape4 shape = TensorInterop.ShapeOf(tensor.Rank, tensor.Lengths, isDense: true, nameof(tensor));
        var result = Create(shape);
        tensor.FlattenTo(result.Span);
        return result;
    }

    private T[] Storage => _array ?? throw new ObjectDisposedException(nameof(NchwTensor<T>));

    /// <summary>Returns a pooled array to the pool; later access throws <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (_array is { } array && _pooled) ArrayPool<T>.Shared.Return(array);
        _array = null;
    }
}
