using System.Numerics;

namespace Kernels.Nn;

/// <summary>A named trainable tensor with its gradient (same length), e.g. W1 of shape (F, C, HH, WW).</summary>
public sealed class Parameter<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates a zero-filled parameter of the given dimensions.</summary>
    /// <param name="name">Name, unique within a model (checkpoints key on it).</param>
    /// <param name="dims">Dimensions, row-major.</param>
    /// <param name="isWeight">Whether L2 regularisation applies (weights yes, biases no).</param>
    public Parameter(string name, int[] dims, bool isWeight)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        long count = 1;
        foreach (int d in dims)
        {
            Guard.AtLeast(d, 1, nameof(dims));
            count *= d;
            if (count > Array.MaxLength) Guard.ThrowOutOfRange(nameof(dims), count, $"parameter {name} has {count} elements but at most {Array.MaxLength} fit.");
        }
        (Name, Dims, IsWeight) = (name, (int[])dims.Clone(), isWeight);
        Value = new T[count];
        Grad = new T[count];
    }

    /// <summary>Name, unique within a model.</summary>
    public string Name { get; }
    /// <summary>Dimensions, row-major.</summary>
    public IReadOnlyList<int> Dims { get; }
    /// <summary>Whether L2 regularisation applies.</summary>
    public bool IsWeight { get; }
    /// <summary>The values.</summary>
    public T[] Value { get; }
    /// <summary>The gradient of the last loss with respect to <see cref="Value"/>.</summary>
    public T[] Grad { get; }

    /// <summary>
    /// Changes whenever <see cref="Value"/> changes through the library (update rules, checkpoint loads,
    /// initialisation, the solver's restore of the best epoch). Code that writes Value itself calls
    /// <see cref="MarkChanged"/>, so that layers caching a prepared form of the values (a convolution's transformed
    /// filters) rebuild it.
    /// </summary>
    public int Version { get; private set; }

    /// <summary>Records that <see cref="Value"/> has changed (see <see cref="Version"/>).</summary>
    public void MarkChanged() => Version++;

    /// <summary>Fills the values with <c>scale * N(0, 1)</c> from <paramref name="rng"/> (Box-Muller).</summary>
    public void InitNormal(Random rng, double scale)
    {
        for (int i = 0; i < Value.Length; i++)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            Value[i] = T.CreateChecked(scale * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        MarkChanged();
    }
}
