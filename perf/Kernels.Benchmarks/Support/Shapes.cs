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

    /// <summary>Depthwise, grouped and dilated layers of the CNNs people deploy (MobileNet, EfficientNet, ConvNeXt, ResNeXt, RegNet, DeepLab).</summary>
    public static readonly ConvShape[] Modern =
    [
        new("m1", "MobileNet dw x (8,32,112,112) w (32,1,3,3) pad 1", new(8, 32, 112, 112), new(32, 1, 3, 3), new Conv2DParams(1, 1) { Groups = 32 }),
        new("m2", "MobileNet dw x (8,64,112,112) w (64,1,3,3) stride 2 pad 1", new(8, 64, 112, 112), new(64, 1, 3, 3), new Conv2DParams(2, 1) { Groups = 64 }),
        new("en", "EfficientNet dw x (8,240,28,28) w (240,1,5,5) pad 2", new(8, 240, 28, 28), new(240, 1, 5, 5), new Conv2DParams(1, 2) { Groups = 240 }),
        new("cx", "ConvNeXt dw x (4,96,56,56) w (96,1,7,7) pad 3", new(4, 96, 56, 56), new(96, 1, 7, 7), new Conv2DParams(1, 3) { Groups = 96 }),
        new("rx", "ResNeXt 32x4d x (8,128,56,56) w (128,4,3,3) pad 1", new(8, 128, 56, 56), new(128, 4, 3, 3), new Conv2DParams(1, 1) { Groups = 32 }),
        new("rg", "RegNet x (8,128,28,28) w (128,16,3,3) pad 1, 8 groups", new(8, 128, 28, 28), new(128, 16, 3, 3), new Conv2DParams(1, 1) { Groups = 8 }),
        new("dl", "DeepLab x (4,256,33,33) w (256,256,3,3) dilation 2 pad 2", new(4, 256, 33, 33), new(256, 256, 3, 3), new Conv2DParams(1, 2) { Dilation = 2 }),
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
