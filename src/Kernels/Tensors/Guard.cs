using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Kernels;

/// <summary>
/// Argument checks for public entry points. Every message names the parameter, the expected and the
/// actual value. Throws live in non-inlined helpers so the checks stay cheap on hot paths.
/// </summary>
internal static class Guard
{
    /// <summary>Throws unless actual == expected; <paramref name="what"/> is only formatted when it throws.</summary>
    public static void Length(int actual, long expected, string name, [InterpolatedStringHandlerArgument("actual", "expected")] ref LengthText what)
    {
        if (actual != expected) ThrowLength(actual, expected, name, what.ToString());
    }

    public static void AtLeast(int value, int min, string name)
    {
        if (value < min) ThrowAtLeast(value, min, name);
    }

    /// <summary>Throws unless actual == expected; <paramref name="what"/> is only formatted when it throws.</summary>
    public static void Shape(Shape4 actual, Shape4 expected, string name, [InterpolatedStringHandlerArgument("actual", "expected")] ref ShapeText what)
    {
        if (actual != expected) ThrowShape(actual, expected, name, what.ToString());
    }

    public static void Finite(double value, string name)
    {
        if (!double.IsFinite(value)) ThrowNotFinite(value, name);
    }

    /// <summary>Outputs may be the very same memory as an input, never a shifted overlap of it.</summary>
    public static void NoPartialOverlap<T>(ReadOnlySpan<T> output, ReadOnlySpan<T> input, string outputName, string inputName)
    {
        if (output.Overlaps(input, out int offset) && offset != 0)
            ThrowOverlap(outputName, inputName, offset);
    }

    /// <summary>An output that must not share any memory with an input (it is written before the input is fully read).</summary>
    public static void NoOverlap<T>(ReadOnlySpan<T> output, ReadOnlySpan<T> input, string outputName, string inputName)
    {
        if (output.Overlaps(input)) ThrowOverlap(outputName, inputName, null);
    }

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void Throw(string name, string message) => throw new ArgumentException(message, name);

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowOutOfRange(string name, object? actual, string message) =>
        throw new ArgumentOutOfRangeException(name, actual, message);

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowLength(int actual, long expected, string name, string what) =>
        throw new ArgumentException($"{name} has length {actual} but {what} needs {expected}.", name);

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowAtLeast(int value, int min, string name) =>
        throw new ArgumentOutOfRangeException(name, value, $"{name} must be >= {min} but is {value}.");

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowShape(Shape4 actual, Shape4 expected, string name, string what) =>
        throw new ArgumentException($"{name} has shape {actual} but {what} needs {expected}.", name);

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowNotFinite(double value, string name) =>
        throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite number but is {value}.");

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowOverlap(string outputName, string inputName, int? offset) =>
        throw new ArgumentException(offset is int o
            ? $"{outputName} overlaps {inputName} shifted by {o} elements; it must be the same memory (offset 0) or disjoint."
            : $"{outputName} overlaps {inputName}; they must be disjoint.", outputName);
}

/// <summary>
/// Interpolated text that is only formatted when a check fails, so that validating arguments allocates nothing on
/// the success path (a plain interpolated string would be built on every call).
/// </summary>
internal ref struct LazyText
{
    private DefaultInterpolatedStringHandler _text;
    private readonly bool _active;

    public LazyText(int literalLength, int formattedCount, bool failed, out bool shouldAppend)
    {
        _active = shouldAppend = failed;
        _text = failed ? new DefaultInterpolatedStringHandler(literalLength, formattedCount) : default;
    }

    public void AppendLiteral(string value) => _text.AppendLiteral(value);
    public void AppendFormatted<T>(T value) => _text.AppendFormatted(value);
    public override string ToString() => _active ? _text.ToStringAndClear() : string.Empty;
}

/// <summary><see cref="LazyText"/> for <see cref="Guard.Length"/>: formatted only when the lengths differ.</summary>
[InterpolatedStringHandler]
internal ref struct LengthText
{
    private LazyText _text;
    public LengthText(int literalLength, int formattedCount, int actual, long expected, out bool shouldAppend) =>
        _text = new LazyText(literalLength, formattedCount, actual != expected, out shouldAppend);
    public void AppendLiteral(string value) => _text.AppendLiteral(value);
    public void AppendFormatted<T>(T value) => _text.AppendFormatted(value);
    public override string ToString() => _text.ToString();
}

/// <summary><see cref="LazyText"/> for <see cref="Guard.Shape"/>: formatted only when the shapes differ.</summary>
[InterpolatedStringHandler]
internal ref struct ShapeText
{
    private LazyText _text;
    public ShapeText(int literalLength, int formattedCount, Shape4 actual, Shape4 expected, out bool shouldAppend) =>
        _text = new LazyText(literalLength, formattedCount, actual != expected, out shouldAppend);
    public void AppendLiteral(string value) => _text.AppendLiteral(value);
    public void AppendFormatted<T>(T value) => _text.AppendFormatted(value);
    public override string ToString() => _text.ToString();
}

/// <summary><see cref="LazyText"/> for <see cref="Matrices.Shape"/>: formatted only when the dimensions differ.</summary>
[InterpolatedStringHandler]
internal ref struct MatrixText
{
    private LazyText _text;
    public MatrixText(int literalLength, int formattedCount, int height, int width, int rows, int cols, out bool shouldAppend) =>
        _text = new LazyText(literalLength, formattedCount, height != rows || width != cols, out shouldAppend);
    public void AppendLiteral(string value) => _text.AppendLiteral(value);
    public void AppendFormatted<T>(T value) => _text.AppendFormatted(value);
    public override string ToString() => _text.ToString();
}
