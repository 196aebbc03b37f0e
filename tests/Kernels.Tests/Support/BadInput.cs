namespace Kernels.Tests;

/// <summary>
/// One row of a bad-input table: the call must throw exactly <see cref="Expected"/>, with each of
/// <see cref="Parts"/> (the parameter, the expected and the actual value) in its message, and leave every output
/// buffer (lengths <see cref="OutputLengths"/>, pre-filled with a sentinel) untouched.
/// </summary>
public sealed record BadInputRow<T>(Type Expected, string[] Parts, int[] OutputLengths, Action<T[][]> Call)
{
    public static BadInputRow<T> Arg(string[] parts, int[] outputs, Action<T[][]> call) => new(typeof(ArgumentException), parts, outputs, call);
    public static BadInputRow<T> Range(string[] parts, int[] outputs, Action<T[][]> call) => new(typeof(ArgumentOutOfRangeException), parts, outputs, call);

    public void Check(T sentinel)
    {
        T[][] outputs = OutputLengths.Select(n => Enumerable.Repeat(sentinel, n).ToArray()).ToArray();
        Exception ex = Assert.ThrowsAny<ArgumentException>(() => Call(outputs));
        Assert.Equal(Expected, ex.GetType());
        foreach (string part in Parts) Assert.Contains(part, ex.Message);
        Assert.All(outputs, o => Assert.All(o, v => Assert.Equal(sentinel, v)));
    }
}
