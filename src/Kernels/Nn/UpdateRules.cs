using System.Numerics;

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

    /// <summary>Updates every parameter in place from its gradient.</summary>
    public void Step(IReadOnlyList<Parameter<T>> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!SameOwners(parameters))
        {
            _owners = new Parameter<T>[parameters.Count];
            for (int i = 0; i < _owners.Length; i++) _owners[i] = parameters[i];
            _state = _owners.Select(p => Enumerable.Range(0, StateCount).Select(_ => new T[p.Value.Length]).ToArray()).ToArray();
            _steps = new int[_owners.Length];
        }
        for (int i = 0; i < _owners.Length; i++)
            Update(_owners[i].Value, _owners[i].Grad, _state[i], ++_steps[i]);
    }

    private bool SameOwners(IReadOnlyList<Parameter<T>> parameters)
    {
        if (parameters.Count != _owners.Length) return false;
        for (int i = 0; i < _owners.Length; i++)
            if (!ReferenceEquals(parameters[i], _owners[i])) return false;
        return true;
    }

    /// <summary>How many state arrays (each as long as the parameter) the rule keeps.</summary>
    protected abstract int StateCount { get; }

    /// <summary>Step number <paramref name="step"/> (from 1) on one parameter.</summary>
    protected abstract void Update(T[] w, T[] dw, T[][] state, int step);

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
    protected override void Update(T[] w, T[] dw, T[][] state, int step)
    {
        T lr = T.CreateChecked(LearningRate);
        for (int i = 0; i < w.Length; i++) w[i] -= lr * dw[i];
    }
}

/// <summary>SGD with momentum: <c>v = mu * v - lr * dw; w += v</c>.</summary>
public sealed class SgdMomentum<T>(double learningRate = 1e-2, double momentum = 0.9) : UpdateRule<T>(learningRate) where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly double _momentum = Fraction(momentum, nameof(momentum));

    /// <inheritdoc/>
    protected override int StateCount => 1;

    /// <inheritdoc/>
    protected override void Update(T[] w, T[] dw, T[][] state, int step)
    {
        T lr = T.CreateChecked(LearningRate), mu = T.CreateChecked(_momentum);
        T[] v = state[0];
        for (int i = 0; i < w.Length; i++)
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
    protected override void Update(T[] w, T[] dw, T[][] state, int step)
    {
        T lr = T.CreateChecked(LearningRate), d = T.CreateChecked(_decay), eps = T.CreateChecked(_epsilon);
        T[] cache = state[0];
        for (int i = 0; i < w.Length; i++)
        {
            cache[i] = d * cache[i] + (T.One - d) * dw[i] * dw[i];
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
    protected override void Update(T[] w, T[] dw, T[][] state, int step)
    {
        int t = step;
        T lr = T.CreateChecked(LearningRate), b1 = T.CreateChecked(_beta1), b2 = T.CreateChecked(_beta2), eps = T.CreateChecked(_epsilon);
        T c1 = T.One / (T.One - T.CreateChecked(Math.Pow(_beta1, t))), c2 = T.One / (T.One - T.CreateChecked(Math.Pow(_beta2, t)));
        T[] m = state[0], v = state[1];
        for (int i = 0; i < w.Length; i++)
        {
            m[i] = b1 * m[i] + (T.One - b1) * dw[i];
            v[i] = b2 * v[i] + (T.One - b2) * dw[i] * dw[i];
            w[i] -= lr * (m[i] * c1) / (T.Sqrt(v[i] * c2) + eps);
        }
    }
}
