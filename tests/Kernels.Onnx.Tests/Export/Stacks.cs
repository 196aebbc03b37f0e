using FsCheck;
using FsCheck.Fluent;
using Kernels.Nn;

namespace Kernels.Onnx.Tests.Export;

/// <summary>One layer of a generated stack, as data, so a counterexample prints as a readable list of layers.</summary>
public abstract record LayerSpec
{
    /// <summary>The layer's output shape for <paramref name="input"/> (N = 1); throws <see cref="ArgumentException"/> when it does not fit.</summary>
    public abstract Shape4 Output(Shape4 input);
}

/// <summary>Conv2DLayer, F filters of HH x WW.</summary>
public sealed record ConvSpec(int F, int HH, int WW, int Stride, int Pad) : LayerSpec
{
    public override Shape4 Output(Shape4 input) => Geometry.Conv2DOutput(input, new Shape4(F, input.C, HH, WW), F, new Conv2DParams(Stride, Pad));
    public override string ToString() => $"conv {F}x{HH}x{WW}/{Stride} pad {Pad}";
}

/// <summary>MaxPool2DLayer or AvgPool2DLayer.</summary>
public sealed record PoolSpec(bool Max, int PoolHeight, int PoolWidth, int Stride) : LayerSpec
{
    public Pool2DParams Params => new(PoolHeight, PoolWidth, Stride);
    public override Shape4 Output(Shape4 input) => Geometry.Pool2DOutput(input, Params);
    public override string ToString() => $"{(Max ? "max" : "avg")}pool {PoolHeight}x{PoolWidth}/{Stride}";
}

/// <summary>ConvReluPool (its pool is a max pool).</summary>
public sealed record ConvReluPoolSpec(ConvSpec Conv, PoolSpec Pool) : LayerSpec
{
    public override Shape4 Output(Shape4 input) => Pool.Output(Conv.Output(input));
    public override string ToString() => $"[{Conv}, relu, {Pool}]";
}

/// <summary>AffineLayer (or AffineRelu) to M outputs.</summary>
public sealed record AffineSpec(int M, bool Relu) : LayerSpec
{
    public override Shape4 Output(Shape4 input) => new(input.N, M, 1, 1);
    public override string ToString() => Relu ? $"[affine {M}, relu]" : $"affine {M}";
}

/// <summary>ReluLayer.</summary>
public sealed record ReluSpec : LayerSpec
{
    public override Shape4 Output(Shape4 input) => input;
    public override string ToString() => "relu";
}

/// <summary>FlattenLayer.</summary>
public sealed record FlattenSpec : LayerSpec
{
    public override Shape4 Output(Shape4 input) => new(input.N, input.ImageLength, 1, 1);
    public override string ToString() => "flatten";
}

/// <summary>A Sequential inside the stack.</summary>
public sealed record NestedSpec(LayerSpec[] Layers) : LayerSpec
{
    public override Shape4 Output(Shape4 input) => Stack.Through(Layers, input);
    public override string ToString() => $"({string.Join(", ", Layers.Select(l => l.ToString()))})";
}

/// <summary>
/// A network of the layers the exporter writes, for images of C x H x W, valid by construction: every layer fits the
/// shape the layers before it leave (after an affine layer that is (M, 1, 1), which Conv and the pools take as NCHW).
/// </summary>
public sealed record Stack(int C, int H, int W, LayerSpec[] Layers, int Seed)
{
    public Shape4 Input(int n) => new(n, C, H, W);

    /// <summary>True when every layer fits (shrinking drops layers and keeps only the stacks that still fit).</summary>
    public bool IsValid
    {
        get
        {
            try { _ = Through(Layers, Input(1)); return true; }
            catch (ArgumentException) { return false; }
        }
    }

    /// <summary>The network, weights from <see cref="Seed"/>; each parameter named after its place in the stack.</summary>
    public Sequential<float> Build(IKernelSet<float> k)
    {
        var rng = new Random(Seed);
        int count = 0;
        Layer<float>[] Instantiate(LayerSpec[] specs, ref Shape4 shape)
        {
            var layers = new Layer<float>[specs.Length];
            for (int i = 0; i < specs.Length; i++)
            {
                Shape4 s = shape;
                layers[i] = specs[i] switch
                {
                    ConvSpec c => Conv(c, s),
                    PoolSpec { Max: true } p => new MaxPool2DLayer<float>(k, p.Params),
                    PoolSpec p => new AvgPool2DLayer<float>(k, p.Params),
                    ConvReluPoolSpec crp => new ConvReluPool<float>(k, Conv(crp.Conv, s), crp.Pool.Params),
                    AffineSpec { Relu: true } a => new AffineRelu<float>(k, Affine(a, s)),
                    AffineSpec a => Affine(a, s),
                    ReluSpec => new ReluLayer<float>(k),
                    FlattenSpec => new FlattenLayer<float>(),
                    NestedSpec n => new Sequential<float>(k, Instantiate(n.Layers, ref s)),
                    _ => throw new NotSupportedException(specs[i].GetType().Name),
                };
                shape = specs[i].Output(shape);
            }
            return layers;
        }
        // Weight scales ~ 1 / sqrt(fan-in) keep the scores of deep stacks near 1 (neither vanishing nor huge).
        Conv2DLayer<float> Conv(ConvSpec c, Shape4 s) =>
            new(k, $"conv{count++}", s.C, c.F, c.HH, c.WW, new Conv2DParams(c.Stride, c.Pad), rng, 1.5 / Math.Sqrt(s.C * c.HH * c.WW));
        AffineLayer<float> Affine(AffineSpec a, Shape4 s) => new(k, $"affine{count++}", s.ImageLength, a.M, rng, 1.5 / Math.Sqrt(s.ImageLength));
        Shape4 input = Input(1);
        return new Sequential<float>(k, Instantiate(Layers, ref input));
    }

    public static Shape4 Through(IEnumerable<LayerSpec> layers, Shape4 input)
    {
        foreach (LayerSpec l in layers) input = l.Output(input);
        return input;
    }

    public override string ToString() => $"x ({C},{H},{W}) -> {string.Join(", ", Layers.Select(l => l.ToString()))}, seed {Seed}";
}

/// <summary>Generators of <see cref="Stack"/>: 1-5 layers, images up to 3 x 6 x 6, about a third of the layers affine.</summary>
public static class StackGen
{
    public static Gen<Stack> Stack() =>
        from c in Gen.Choose(1, 3)
        from h in Gen.Choose(1, 6)
        from w in Gen.Choose(1, 6)
        from count in Gen.Choose(1, 5)
        from layers in Layers(new Shape4(1, c, h, w), count, nested: true)
        from seed in Gen.Choose(0, int.MaxValue)
        select new Stack(c, h, w, layers, seed);

    private static Gen<LayerSpec[]> Layers(Shape4 shape, int count, bool nested) => count == 0
        ? Gen.Constant(Array.Empty<LayerSpec>())
        : from first in Layer(shape, nested)
          from rest in Layers(first.Output(shape), count - 1, nested)
          select (LayerSpec[])[first, .. rest];

    /// <summary>A layer that fits <paramref name="s"/>: the windows are drawn no larger than the (padded) image.</summary>
    private static Gen<LayerSpec> Layer(Shape4 s, bool nested)
    {
        Gen<LayerSpec> affine = from m in Gen.Choose(1, 6) from relu in Gen.Elements(false, true) select (LayerSpec)new AffineSpec(m, relu);
        var choices = new List<Gen<LayerSpec>>
        {
            Conv(s).Select(c => (LayerSpec)c), Pool(s).Select(p => (LayerSpec)p), affine, affine,
            from c in Conv(s) from p in Pool(c.Output(s)) select (LayerSpec)new ConvReluPoolSpec(c, p with { Max = true }),
            Gen.Constant((LayerSpec)new ReluSpec()), Gen.Constant((LayerSpec)new FlattenSpec()),
        };
        if (nested) choices.Add(from n in Gen.Choose(1, 2) from l in Layers(s, n, nested: false) select (LayerSpec)new NestedSpec(l));
        return Gen.OneOf(choices);
    }

    private static Gen<ConvSpec> Conv(Shape4 s) =>
        from pad in Gen.Choose(0, 1)
        from hh in Gen.Choose(1, Math.Min(3, s.H + 2 * pad))
        from ww in Gen.Choose(1, Math.Min(3, s.W + 2 * pad))
        from stride in Gen.Choose(1, 2)
        from f in Gen.Choose(1, 4)
        select new ConvSpec(f, hh, ww, stride, pad);

    private static Gen<PoolSpec> Pool(Shape4 s) =>
        from max in Gen.Elements(false, true)
        from ph in Gen.Choose(1, Math.Min(3, s.H))
        from pw in Gen.Choose(1, Math.Min(3, s.W))
        from stride in Gen.Choose(1, 2)
        select new PoolSpec(max, ph, pw, stride);

    /// <summary>Drops one layer, unwraps a nested Sequential or removes one of its layers; keeps the stacks that still fit.</summary>
    public static IEnumerable<Stack> Shrink(Stack s)
    {
        var candidates = new List<LayerSpec[]>();
        for (int i = 0; i < s.Layers.Length; i++)
        {
            if (s.Layers.Length > 1) candidates.Add([.. s.Layers[..i], .. s.Layers[(i + 1)..]]);
            if (s.Layers[i] is NestedSpec n)
            {
                candidates.Add([.. s.Layers[..i], .. n.Layers, .. s.Layers[(i + 1)..]]);
                for (int j = 0; j < n.Layers.Length && n.Layers.Length > 1; j++)
                    candidates.Add([.. s.Layers[..i], new NestedSpec([.. n.Layers[..j], .. n.Layers[(j + 1)..]]), .. s.Layers[(i + 1)..]]);
            }
        }
        return candidates.Select(l => s with { Layers = l }).Where(c => c.IsValid);
    }
}

/// <summary>The stacks for <c>[StackProperty]</c> tests.</summary>
public static class StackArbitraries
{
    public static Arbitrary<Stack> Stack() => Arb.From(StackGen.Stack(), StackGen.Shrink);
}

/// <summary>A property over generated stacks; 100 cases.</summary>
public sealed class StackPropertyAttribute : FsCheck.Xunit.PropertyAttribute
{
    public StackPropertyAttribute()
    {
        Arbitrary = [typeof(StackArbitraries)];
        MaxTest = 100;
    }
}

/// <summary>Hand-written stacks that every export test runs, named for what they cover.</summary>
public static class NamedStacks
{
    /// <summary>Every layer type the exporter writes, in the usual order (convolutions first, then affine layers).</summary>
    public static readonly Stack EveryLayer = new(3, 17, 17,
    [
        new ConvSpec(8, 3, 3, Stride: 2, Pad: 1), new ReluSpec(), new PoolSpec(Max: false, 2, 2, Stride: 1),
        new ConvReluPoolSpec(new ConvSpec(4, 1, 1, 1, 0), new PoolSpec(true, 3, 3, 2)), new FlattenSpec(),
        new AffineSpec(7, Relu: true), new AffineSpec(3, Relu: false),
    ], Seed: 5);

    /// <summary>
    /// Conv and pools after affine layers and after a flatten, at the top and inside a nested Sequential: Kernels
    /// reads each flat (N, D) value as D channels of 1 x 1.
    /// </summary>
    public static readonly Stack ImagesAfterFlatValues = new(2, 4, 4,
    [
        new AffineSpec(6, Relu: false), new ConvSpec(5, 3, 3, Stride: 1, Pad: 1), new PoolSpec(Max: true, 1, 1, Stride: 1),
        new AffineSpec(4, Relu: true), new PoolSpec(Max: false, 1, 1, Stride: 2),
        new NestedSpec([new AffineSpec(3, Relu: false), new ConvReluPoolSpec(new ConvSpec(3, 1, 1, 1, 0), new PoolSpec(true, 1, 1, 1))]),
        new FlattenSpec(), new ConvSpec(2, 1, 1, 1, 0),
    ], Seed: 9);

    public static readonly IReadOnlyDictionary<string, Stack> All = new Dictionary<string, Stack>
    {
        [nameof(EveryLayer)] = EveryLayer,
        [nameof(ImagesAfterFlatValues)] = ImagesAfterFlatValues,
    };

    public static TheoryData<string> Names => [.. All.Keys];
}
