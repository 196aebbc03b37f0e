using System.Numerics;

namespace Kernels
{
    /// <summary>The activation functions of <see cref="Activation"/>.</summary>
    public enum ActivationKind
    {
        /// <summary><see cref="Kernels.Relu"/>.</summary>
        Relu,
        /// <summary><see cref="Kernels.Sigmoid"/>.</summary>
        Sigmoid,
        /// <summary><see cref="Kernels.Tanh"/>.</summary>
        Tanh,
        /// <summary><see cref="Kernels.HardSigmoid"/>.</summary>
        HardSigmoid,
        /// <summary><see cref="Kernels.HardSwish"/>.</summary>
        HardSwish,
        /// <summary><see cref="Kernels.Silu"/>.</summary>
        Silu,
        /// <summary><see cref="Kernels.Gelu"/>, exact.</summary>
        Gelu,
        /// <summary><see cref="Kernels.Gelu"/>, tanh approximation.</summary>
        GeluTanh,
        /// <summary><see cref="Kernels.LeakyRelu"/> with slope A.</summary>
        LeakyRelu,
        /// <summary><see cref="Kernels.Elu"/> with alpha A.</summary>
        Elu,
        /// <summary><see cref="Kernels.Clip"/> to [A, B] (ReLU6: [0, 6]).</summary>
        Clip,
    }

    /// <summary>
    /// An activation function with its parameters (MLAS's activation descriptor): what <see cref="Nn.ActivationLayer{T}"/>
    /// and <see cref="Activations"/> take. Made by the static members, which validate the parameters.
    /// </summary>
    public readonly record struct Activation
    {
        private Activation(ActivationKind kind, float a = 0, float b = 0) => (Kind, A, B) = (kind, a, b);

        /// <summary>The function.</summary>
        public ActivationKind Kind { get; }
        /// <summary>Leaky ReLU's slope, ELU's alpha, clip's min (0 otherwise).</summary>
        public float A { get; }
        /// <summary>Clip's max (0 otherwise).</summary>
        public float B { get; }

        /// <summary>ReLU.</summary>
        public static Activation Relu => new(ActivationKind.Relu);
        /// <summary>Logistic sigmoid.</summary>
        public static Activation Sigmoid => new(ActivationKind.Sigmoid);
        /// <summary>Hyperbolic tangent.</summary>
        public static Activation Tanh => new(ActivationKind.Tanh);
        /// <summary>PyTorch's hard sigmoid, relu6(x + 3) / 6.</summary>
        public static Activation HardSigmoid => new(ActivationKind.HardSigmoid);
        /// <summary>PyTorch's hard swish, x relu6(x + 3) / 6.</summary>
        public static Activation HardSwish => new(ActivationKind.HardSwish);
        /// <summary>SiLU (swish), x sigmoid(x).</summary>
        public static Activation Silu => new(ActivationKind.Silu);
        /// <summary>GELU, exact (erf) or the tanh approximation.</summary>
        public static Activation Gelu(GeluApproximation approximation = GeluApproximation.None) =>
            Reference.Gelu.Validate(approximation) == GeluApproximation.None ? new(ActivationKind.Gelu) : new(ActivationKind.GeluTanh);
        /// <summary>ReLU6, clip to [0, 6].</summary>
        public static Activation Relu6 => new(ActivationKind.Clip, 0, 6);

        /// <summary>Leaky ReLU with the given slope for x &lt;= 0 (finite).</summary>
        public static Activation LeakyRelu(float slope = 0.01f)
        {
            Guard.Finite(slope, nameof(slope));
            return new(ActivationKind.LeakyRelu, slope);
        }

        /// <summary>ELU with the given alpha (finite).</summary>
        public static Activation Elu(float alpha = 1f)
        {
            Guard.Finite(alpha, nameof(alpha));
            return new(ActivationKind.Elu, alpha);
        }

        /// <summary>Clip to [min, max] (not NaN, min &lt;= max).</summary>
        public static Activation Clip(float min, float max)
        {
            Reference.Clip.ValidateBounds(min, max);
            return new(ActivationKind.Clip, min, max);
        }

        /// <inheritdoc/>
        public override string ToString() => Kind switch
        {
            ActivationKind.LeakyRelu or ActivationKind.Elu => $"{Kind}({A})",
            ActivationKind.Clip => $"Clip({A}, {B})",
            _ => Kind.ToString(),
        };
    }

    /// <summary>The fast activation named by an <see cref="Activation"/> (one switch over the functions' own entry points).</summary>
    public static class Activations
    {
        /// <summary><c>y = f(x)</c>; see the function's own class. y may be the same memory as x.</summary>
        /// <param name="f">The function.</param>
        /// <param name="x">Input, any shape, flat.</param>
        /// <param name="y">Output, as long as x.</param>
        /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
        public static void Forward(Activation f, ReadOnlySpan<float> x, Span<float> y, int maxDegreeOfParallelism = 1)
        {
            switch (f.Kind)
            {
                case ActivationKind.Relu: Kernels.Relu.Forward(x, y, maxDegreeOfParallelism); break;
                case ActivationKind.Sigmoid: Kernels.Sigmoid.Forward(x, y, maxDegreeOfParallelism); break;
                case ActivationKind.Tanh: Kernels.Tanh.Forward(x, y, maxDegreeOfParallelism); break;
                case ActivationKind.HardSigmoid: Kernels.HardSigmoid.Forward(x, y, maxDegreeOfParallelism); break;
                case ActivationKind.HardSwish: Kernels.HardSwish.Forward(x, y, maxDegreeOfParallelism); break;
                case ActivationKind.Silu: Kernels.Silu.Forward(x, y, maxDegreeOfParallelism); break;
                case ActivationKind.Gelu: Kernels.Gelu.Forward(x, y, GeluApproximation.None, maxDegreeOfParallelism); break;
                case ActivationKind.GeluTanh: Kernels.Gelu.Forward(x, y, GeluApproximation.Tanh, maxDegreeOfParallelism); break;
                case ActivationKind.LeakyRelu: Kernels.LeakyRelu.Forward(x, y, f.A, maxDegreeOfParallelism); break;
                case ActivationKind.Elu: Kernels.Elu.Forward(x, y, f.A, maxDegreeOfParallelism); break;
                case ActivationKind.Clip: Kernels.Clip.Forward(x, y, f.A, f.B, maxDegreeOfParallelism); break;
                default: Reference.Activations.ThrowUnknown(f); break;
            }
        }

        /// <summary><c>dx = dout * f'(x)</c>; see the function's own class. dx may be the same memory as dout or x.</summary>
        /// <param name="f">The function of the forward pass.</param>
        /// <param name="dout">Upstream gradient, as long as x.</param>
        /// <param name="x">The forward input.</param>
        /// <param name="dx">Gradient of x, as long as x.</param>
        /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
        public static void Backward(Activation f, ReadOnlySpan<float> dout, ReadOnlySpan<float> x, Span<float> dx, int maxDegreeOfParallelism = 1)
        {
            switch (f.Kind)
            {
                case ActivationKind.Relu: Kernels.Relu.Backward(dout, x, dx, maxDegreeOfParallelism); break;
                case ActivationKind.Sigmoid: Kernels.Sigmoid.Backward(dout, x, dx, maxDegreeOfParallelism); break;
                case ActivationKind.Tanh: Kernels.Tanh.Backward(dout, x, dx, maxDegreeOfParallelism); break;
                case ActivationKind.HardSigmoid: Kernels.HardSigmoid.Backward(dout, x, dx, maxDegreeOfParallelism); break;
                case ActivationKind.HardSwish: Kernels.HardSwish.Backward(dout, x, dx, maxDegreeOfParallelism); break;
                case ActivationKind.Silu: Kernels.Silu.Backward(dout, x, dx, maxDegreeOfParallelism); break;
                case ActivationKind.Gelu: Kernels.Gelu.Backward(dout, x, dx, GeluApproximation.None, maxDegreeOfParallelism); break;
                case ActivationKind.GeluTanh: Kernels.Gelu.Backward(dout, x, dx, GeluApproximation.Tanh, maxDegreeOfParallelism); break;
                case ActivationKind.LeakyRelu: Kernels.LeakyRelu.Backward(dout, x, dx, f.A, maxDegreeOfParallelism); break;
                case ActivationKind.Elu: Kernels.Elu.Backward(dout, x, dx, f.A, maxDegreeOfParallelism); break;
                case ActivationKind.Clip: Kernels.Clip.Backward(dout, x, dx, f.A, f.B, maxDegreeOfParallelism); break;
                default: Reference.Activations.ThrowUnknown(f); break;
            }
        }
    }
}

namespace Kernels.Reference
{
    /// <summary>The oracle activation named by an <see cref="Activation"/>.</summary>
    public static class Activations
    {
        /// <summary><c>y = f(x)</c> by the function's oracle.</summary>
        public static void Forward<T>(Activation f, ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
        {
            T a = T.CreateTruncating(f.A), b = T.CreateTruncating(f.B);
            switch (f.Kind)
            {
                case ActivationKind.Relu: Relu.Forward(x, y); break;
                case ActivationKind.Sigmoid: Sigmoid.Forward(x, y); break;
                case ActivationKind.Tanh: Tanh.Forward(x, y); break;
                case ActivationKind.HardSigmoid: HardSigmoid.Forward(x, y); break;
                case ActivationKind.HardSwish: HardSwish.Forward(x, y); break;
                case ActivationKind.Silu: Silu.Forward(x, y); break;
                case ActivationKind.Gelu: Gelu.Forward(x, y); break;
                case ActivationKind.GeluTanh: Gelu.Forward(x, y, GeluApproximation.Tanh); break;
                case ActivationKind.LeakyRelu: LeakyRelu.Forward(x, y, a); break;
                case ActivationKind.Elu: Elu.Forward(x, y, a); break;
                case ActivationKind.Clip: Clip.Forward(x, y, a, b); break;
                default: ThrowUnknown(f); break;
            }
        }

        /// <summary><c>dx = dout * f'(x)</c> by the function's oracle.</summary>
        public static void Backward<T>(Activation f, ReadOnlySpan<T> dout, ReadOnlySpan<T> x, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
        {
            T a = T.CreateTruncating(f.A), b = T.CreateTruncating(f.B);
            switch (f.Kind)
            {
                case ActivationKind.Relu: Relu.Backward(dout, x, dx); break;
                case ActivationKind.Sigmoid: Sigmoid.Backward(dout, x, dx); break;
                case ActivationKind.Tanh: Tanh.Backward(dout, x, dx); break;
                case ActivationKind.HardSigmoid: HardSigmoid.Backward(dout, x, dx); break;
                case ActivationKind.HardSwish: HardSwish.Backward(dout, x, dx); break;
                case ActivationKind.Silu: Silu.Backward(dout, x, dx); break;
                case ActivationKind.Gelu: Gelu.Backward(dout, x, dx); break;
                case ActivationKind.GeluTanh: Gelu.Backward(dout, x, dx, GeluApproximation.Tanh); break;
                case ActivationKind.LeakyRelu: LeakyRelu.Backward(dout, x, dx, a); break;
                case ActivationKind.Elu: Elu.Backward(dout, x, dx, a); break;
                case ActivationKind.Clip: Clip.Backward(dout, x, dx, a, b); break;
                default: ThrowUnknown(f); break;
            }
        }

        internal static void ThrowUnknown(Activation f) =>
            Guard.ThrowOutOfRange(nameof(f), f.Kind, $"f.Kind must be one of the ActivationKind values but is {(int)f.Kind}.");
    }
}
