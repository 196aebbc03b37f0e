using BenchmarkDotNet.Attributes;

namespace Kernels.Benchmarks;

/// <summary>
/// The parameters and data every convolution benchmark shares (ours and the peers'): the shapes (a)-(e),
/// 1 and 2 threads, seeded inputs, and our forward pass (each class's baseline or agreement reference).
/// </summary>
public abstract class ConvWorkload
{
    protected float[] X = [], W = [], B = [], Y = [];

    public static IEnumerable<ConvShape> AllShapes => Shapes.Conv;

    [ParamsSource(nameof(AllShapes))]
    public ConvShape Shape { get; set; } = Shapes.Conv[0];

    [Params(1, 2)]
    public int Threads { get; set; }

    protected void CreateData()
    {
        (X, W, B, Y) = (Shapes.Random(Shape.X.Length, 1), Shapes.Random(Shape.W.Length, 2), Shapes.Random(Shape.W.N, 3), Shapes.Random(Shape.Y.Length, 4));
    }

    protected void OursForward() =>
        Conv2D.Forward(new ReadOnlyNchwSpan<float>(X, Shape.X), new ReadOnlyNchwSpan<float>(W, Shape.W), B, Shape.P, new NchwSpan<float>(Y, Shape.Y), Threads);
}
