using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kernels.Nn;

/// <summary>
/// A first-order update rule (cs231n's optim.py): moves each parameter against its gradient, keeping whatever
/// per-parameter state it needs (allocated on the first step of each parameter).
/// </summary>
public abstract class UpdateRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    // Per-parameter state, by position in the list passed to Step; a list with other parameters restarts it.
    private Parameter<T>[] _owners = [];
    private T[][][] _state = [];
    private int[] _steps = [];

    /// <summary>Creates the rule with a learning rate (finite, &gt; 0).</summary>
    protected UpdateRule(double learningRate) => LearningRate = learningRate;

    /// <summary>Step size; the solver multiplies it by its decay after every epoch.</summary>
    public double LearningRate
    {
        get;
        set
        {
            if (!double.IsFinite(value) || value <= 0) Guard.ThrowOutOfRange(nameof(LearningRate), value, $"LearningRate must be a finite number > 0 but is {value}.");
            field = value;
        }
    }

    /// <summary>
    /// Updates every parameter in place from its gradient. The parameters are cut into fixed chunks of
    /// <see cref="ChunkLength"/> elements, which threads take in contiguous ranges; each element's update depends
    /// on that element alone, so the result is the same for every <paramref name="maxDegreeOfParallelism"/>.
    /// </summary>
    /// <param name="parameters">The parameters, in the same order at every step (their state is kept by position).</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public void Step(IReadOnlyList<Parameter<T>> parameters, int maxDegreeOfParallelism = 1)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        int degree = Parallelism.Resolve(maxDegreeOfParallelism);
        if (!SameOwners(parameters))
        {
            _owners = new Parameter<T>[parameters.Count];
            for (int i = 0; i < _owners.Length; i++) _owners[i] = parameters[i];
            _state = _owners.Select(p => Enumerable.Range(0, StateCount).Select(_ => new T[p.Value.Length]).ToArray()).ToArray();
            _steps = new int[_owners.Length];
            _firstChunk = new int[_owners.Length + 1];
            for (int i = 0; i < _owners.Length; i++) _firstChunk[i + 1] = _firstChunk[i] + (_owners[i].Value.Length + ChunkLength - 1) / ChunkLength;
        }
        for (int i = 0; i < _steps.Length; i++) _steps[i]++;
        long elements = (long)_firstChunk[^1] * ChunkLength;
        Parallelism.For(_firstChunk[^1], Threading.Partition.Threads(degree, elements, ChunkLength), new Chunks(this));
        foreach (Parameter<T> p in _owners) p.MarkChanged();
    }

    /// <summary>Elements per chunk of a step: 32K, enough to amortise a thread's share of a fork-join.</summary>
    protected const int ChunkLength = 1 << 15;

    private int[] _firstChunk = [0];

    private readonly struct Chunks(UpdateRule<T> rule) : IIndexAction
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Invoke(int chunk)
        {
            int p = Array.BinarySearch(rule._firstChunk, chunk);
            if (p < 0) p = ~p - 1;
            while (rule._firstChunk[p + 1] == chunk) p++; // skip empty parameters sharing the index
            int start = (chunk - rule._firstChunk[p]) * ChunkLength, length = Math.Min(ChunkLength, rule._owners[p].Value.Length - start);
            T[][] state = rule._state[p];
            rule.Update(rule._owners[p].Value.AsSpan(start, length), rule._owners[p].Grad.AsSpan(start, length),
                state.Length > 0 ? state[0].AsSpan(start, length) : default, state.Length > 1 ? state[1].AsSpan(start, length) : default, rule._steps[p]);
        }
    }

    private bool SameOwners(IReadOnlyList<Parameter<T>> parameters)
    {
        if (parameters.Count != _owners.Length) return false;
        for (int i = 0; i < _owners.Length; i++)
            if (!ReferenceEquals(parameters[i], _owners[i])) return false;
        return true;
    }

    /// <summary>How many state arrays (each as long as the parameter, at most 2) the rule keeps.</summary>
    protected abstract int StateCount { get; }

    /// <summary>
    /// Step number <paramref name="step"/> (from 1) on one chunk of a parameter: its values, gradient and the same
    /// elements of the rule's state arrays (empty when the rule keeps fewer). Called from several threads at once,
    /// on disjoint chunks.
    /// </summary>
    protected abstract void Update(Span<T> w, ReadOnlySpan<T> dw, Span<T> state0, Span<T> state1, int step);

    /// <summary>Vector i/Count of a span, bounds unchecked (the loops stop a whole vector before the end).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private protected static Vector<T> Load(ReadOnlySpan<T> s, int i) => Vector.LoadUnsafe(ref MemoryMarshal.GetReference(s), (nuint)i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private protected static void Store(Vector<T> v, Span<T> s, int i) => v.StoreUnsafe(ref MemoryMarshal.GetReference(s), (nuint)i);

    /// <summary>Validates a hyper-parameter in [0, 1).</summary>
    protected static double Fraction(double value, string name)
    {
        if (!(value >= 0 && value < 1)) Guard.ThrowOutOfRange(name, value, $"{name} must be in [0, 1) but is {value}.");
        return value;
    }

    /// <summary>Validates a finite hyper-parameter &gt; 0.</summary>
    protected static double Positive(double value, string name)
    {
        if (!double.IsFinite(value) || value <= 0) Guard.ThrowOutOfRange(name, value, $"{name} must be a finite number > 0 but is {value}.");
        return value;
    }
}

/// <summary>Vanilla SGD: <c>w -= lr * dw</c>.</summary>
public sealed class Sgd<T>(double learningRate = 1e-2) : UpdateRule<T>(learningRate) where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    protected override int StateCount => 0;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Update(Span<T> w, ReadOnlySpan<T> dw, Span<T> state0, Span<T> state1, int step)
    {
        T lr = T.CreateChecked(LearningRate);
        int i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
            for (var vlr = new Vector<T>(lr); i <= w.Length - Vector<T>.Count; i += Vector<T>.Count)
                Store(Load(w, i) - vlr * Load(dw, i), w, i);
        for (; i < w.Length; i++) w[i] -= lr * dw[i];
    }
}

/// <summary>SGD with momentum: <c>v = mu * v - lr * dw; w += v</c>.</summary>
public sealed class SgdMomentum<T>(double learningRate = 1e-2, double momentum = 0.9) : UpdateRule<T>(learningRate) where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly double _momentum = Fraction(momentum, nameof(momentum));

    /// <inheritdoc/>
    protected override int StateCount => 1;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Update(Span<T> w, ReadOnlySpan<T> dw, Span<T> v, Span<T> state1, int step)
    {
        T lr = T.CreateChecked(LearningRate), mu = T.CreateChecked(_momentum);
        int i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            Vector<T> vlr = new(lr), vmu = new(mu);
            for (; i <= w.Length - Vector<T>.Count; i += Vector<T>.Count)
            {
                Vector<T> vi = vmu * Load(v, i) - vlr * Load(dw, i);
                Store(vi, v, i);
                Store(Load(w, i) + vi, w, i);
            }
        }
        for (; i < w.Length; i++)
        {
            v[i] = mu * v[i] - lr * dw[i];
            w[i] += v[i];
        }
    }
}

/// <summary>RMSProp: <c>c = d * c + (1 - d) * dw^2; w -= lr * dw / (sqrt(c) + eps)</c>.</summary>
public sealed class RmsProp<T>(double learningRate = 1e-2, double decay = 0.99, double epsilon = 1e-8) : UpdateRule<T>(learningRate)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly double _decay = Fraction(decay, nameof(decay)), _epsilon = Positive(epsilon, nameof(epsilon));

    /// <inheritdoc/>
    protected override int StateCount => 1;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Update(Span<T> w, ReadOnlySpan<T> dw, Span<T> cache, Span<T> state1, int step)
    {
        T lr = T.CreateChecked(LearningRate), d = T.CreateChecked(_decay), eps = T.CreateChecked(_epsilon), rest = T.One - d;
        int i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            Vector<T> vlr = new(lr), vd = new(d), vrest = new(rest), veps = new(eps);
            for (; i <= w.Length - Vector<T>.Count; i += Vector<T>.Count)
            {
                Vector<T> g = Load(dw, i), c = vd * Load(cache, i) + vrest * g * g;
                Store(c, cache, i);
                Store(Load(w, i) - vlr * g / (Vector.SquareRoot(c) + veps), w, i);
            }
        }
        for (; i < w.Length; i++)
        {
            cache[i] = d * cache[i] + rest * dw[i] * dw[i];
            w[i] -= lr * dw[i] / (T.Sqrt(cache[i]) + eps);
        }
    }
}

/// <summary>Adam with bias correction: moments m, v with decays beta1, beta2; <c>w -= lr * mhat / (sqrt(vhat) + eps)</c>.</summary>
public sealed class Adam<T>(double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8) : UpdateRule<T>(learningRate)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly double _beta1 = Fraction(beta1, nameof(beta1)), _beta2 = Fraction(beta2, nameof(beta2)), _epsilon = Positive(epsilon, nameof(epsilon));

    /// <inheritdoc/>
    protected override int StateCount => 2;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Update(Span<T> w, ReadOnlySpan<T> dw, Span<T> m, Span<T> v, int step)
    {
        T lr = T.CreateChecked(LearningRate), b1 = T.CreateChecked(_beta1), b2 = T.CreateChecked(_beta2), eps = T.CreateChecked(_epsilon);
        T c1 = T.One / (T.One - T.CreateChecked(Math.Pow(_beta1, step))), c2 = T.One / (T.One - T.CreateChecked(Math.Pow(_beta2, step)));
        T r1 = T.One - b1, r2 = T.One - b2;
        int i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            // The same operations in the same order as the scalar tail, so every element gets the same result.
            Vector<T> vlr = new(lr), vb1 = new(b1), vb2 = new(b2), vr1 = new(r1), vr2 = new(r2), vc1 = new(c1), vc2 = new(c2), veps = new(eps);
            for (; i <= w.Length - Vector<T>.Count; i += Vector<T>.Count)
            {
                Vector<T> g = Load(dw, i);
                Vector<T> mi = vb1 * Load(m, i) + vr1 * g, vi = vb2 * Load(v, i) + vr2 * g * g;
                Store(mi, m, i);
                Store(vi, v, i);
                Store(Load(w, i) - vlr * (mi * vc1) / (Vector.SquareRoot(vi * vc2) + veps), w, i);
            }
        }
        for (; i < w.Length; i++)
        {
            m[i] = b1 * m[i] + r1 * dw[i];
            v[i] = b2 * v[i] + r2 * dw[i] * dw[i];
            w[i] -= lr * (m[i] * c1) / (T.Sqrt(v[i] * c2) + eps);
        }
    }
}
