using Kernels;

namespace Kernels.Benchmarks;

/// <summary>A convolution workload; <see cref="Id"/> (one letter: BenchmarkDotNet shortens long parameter text) is what it shows and the report looks up.</summary>
public sealed record ConvShape(string Id, string Name, Shape4 X, Shape4 W, Conv2DParams P)
{
    public Shape4 Y => Geometry.Conv2DOutput(X, W, W.N, P);
    /// <summary>2 * multiply-adds of the forward pass (backward is twice this: dx and dw).</summary>
    public double ForwardFlops => 2.0 * Y.Length * W.C * W.H * W.W;
    public override string ToString() => Id;
}

/// <summary>The workloads of the issue, shared by benchmarks and the report step.</summary>
public static class Shapes
{
    public static readonly ConvShape[] Conv =
    [
        new("a", "(a) x (100,3,31,31) w (25,3,3,3) stride 2 pad 1", new(100, 3, 31, 31), new(25, 3, 3, 3), new(2, 1)),
        new("b", "(b) x (50,3,32,32) w (32,3,7,7) pad 3", new(50, 3, 32, 32), new(32, 3, 7, 7), new(1, 3)),
        new("c", "(c) x (8,64,56,56) w (64,64,3,3) pad 1", new(8, 64, 56, 56), new(64, 64, 3, 3), new(1, 1)),
        new("d", "(d) x (8,256,14,14) w (256,256,3,3) pad 1", new(8, 256, 14, 14), new(256, 256, 3, 3), new(1, 1)),
        new("e", "(e) x (1,64,56,56) w (64,64,3,3) pad 1", new(1, 64, 56, 56), new(64, 64, 3, 3), new(1, 1)),
    ];

    /// <summary>Small enough for the naive oracle to finish in a benchmark run.</summary>
    public static readonly ConvShape ReferenceConv = new("a4", "x (4,3,31,31) w (25,3,3,3) stride 2 pad 1", new(4, 3, 31, 31), new(25, 3, 3, 3), new(2, 1));

    public static float[] Random(int count, int seed)
    {
        var rng = new Random(seed);
        var a = new float[count];
        for (int i = 0; i < a.Length; i++) a[i] = rng.NextSingle() * 2 - 1;
        return a;
    }
}
