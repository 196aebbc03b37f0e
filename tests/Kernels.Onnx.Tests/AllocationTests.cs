using Kernels.Onnx.Export;

namespace Kernels.Onnx.Tests;

/// <summary>Allocation is measured with no other test class running: a busy worker pool makes the caller run a
/// call's whole work itself, and the first time a thread does that its scratch arena grows once.</summary>
[CollectionDefinition(nameof(Serial), DisableParallelization = true)]
public sealed class Serial;

/// <summary>Once a batch size is planned, a run allocates nothing, at one and at two threads.</summary>
[Collection(nameof(Serial))]
public class AllocationTests
{
    public static TheoryData<string> Names => Fixture.Names;

    [Theory, MemberData(nameof(Names))]
    public void A_run_allocates_nothing_once_its_batch_size_is_planned(string name)
    {
        Fixture f = Fixture.Named(name);
        foreach (int degree in new[] { 1, 2 })
        {
            OnnxModel model = OnnxModel.Load(f.ModelPath, new OnnxModelOptions { MaxDegreeOfParallelism = degree });
            float[] x = f.Input, y = new float[model.OutputLength(f.Batch)];
            // Warm up past tiered compilation (a method is recompiled after 30 calls, in the background after a
            // 100 ms quiet period). With two warm-up runs, one measured run in some full-suite runs allocated 5 KB,
            // never when run alone or with DOTNET_TieredCompilation=0 and never twice: taken to be the runtime
            // switching to recompiled code, not the model's (whose ops allocate nothing, measured op by op).
            for (int i = 0; i < 40; i++) model.Run(x, y);
            Thread.Sleep(250);
            for (int i = 0; i < 40; i++) model.Run(x, y);
            for (int i = 0; i < 5; i++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                model.Run(x, y);
                long after = GC.GetAllocatedBytesForCurrentThread();
                Assert.True(after == before, $"degree {degree} run {i}: {after - before} bytes");
            }
            // The named Run (ONNX Runtime's shape, the one callers loop on) with its argument lists made once.
            string[] inputNames = ["x"], outputNames = ["y"];
            ReadOnlyMemory<float>[] inputs = [x];
            Memory<float>[] outputs = [y];
            for (int i = 0; i < 40; i++) model.Run(inputNames, inputs, outputNames, outputs);
            for (int i = 0; i < 5; i++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                model.Run(inputNames, inputs, outputNames, outputs);
                long after = GC.GetAllocatedBytesForCurrentThread();
                Assert.True(after == before, $"degree {degree} named run {i}: {after - before} bytes");
            }
        }
    }
}

/// <summary>Each op family the zoo uses, alone in a small model: a warm run allocates nothing at degree 1 and 2.</summary>
[Collection(nameof(Serial))]
public class OpAllocationTests
{
    public static TheoryData<string> Ops => ["Add", "Mul", "GlobalAveragePool", "Concat", "Clip", "Sigmoid", "Depthwise", "Grouped", "Conv", "ReduceMean", "Transpose"];

    private static byte[] Model(string op) => op switch
    {
        "Add" or "Mul" => new GraphWriter().Input("x", -1, 8, 6, 6).Initializer("s", [1, 8, 1, 1], new float[8]).Node(op, ["x", "s"], "y").Output("y", -1, 8, 6, 6).ToBytes(),
        "GlobalAveragePool" or "Sigmoid" => new GraphWriter().Input("x", -1, 8, 6, 6).Node(op, ["x"], "y").Output("y", -1, 8, op == "Sigmoid" ? 6 : 1, op == "Sigmoid" ? 6 : 1).ToBytes(),
        "Concat" => new GraphWriter().Input("x", -1, 8, 6, 6).Node("Relu", ["x"], "r").Node("Concat", ["x", "r"], "y", new NodeAttribute("axis", 1L)).Output("y", -1, 16, 6, 6).ToBytes(),
        "Clip" => new GraphWriter().Input("x", -1, 8, 6, 6).Initializer("lo", [], [0f]).Initializer("hi", [], [6f]).Node("Clip", ["x", "lo", "hi"], "y").Output("y", -1, 8, 6, 6).ToBytes(),
        "Depthwise" => new GraphWriter().Input("x", -1, 8, 9, 9).Initializer("w", [8, 1, 3, 3], new float[72]).Node("Conv", ["x", "w"], "y", new NodeAttribute("group", 8L),
            new NodeAttribute("pads", Ints: [1, 1, 1, 1])).Output("y", -1, 8, 9, 9).ToBytes(),
        "Grouped" => new GraphWriter().Input("x", -1, 8, 9, 9).Initializer("w", [8, 2, 3, 3], new float[144]).Node("Conv", ["x", "w"], "y", new NodeAttribute("group", 4L))
            .Output("y", -1, 8, 7, 7).ToBytes(),
        "Conv" => new GraphWriter().Input("x", -1, 16, 20, 20).Initializer("w", [16, 16, 3, 3], new float[2304]).Node("Conv", ["x", "w"], "y", new NodeAttribute("pads", Ints: [1, 1, 1, 1]))
            .Output("y", -1, 16, 20, 20).ToBytes(),
        "ReduceMean" => new GraphWriter().Input("x", -1, 8, 6, 6).Node("ReduceMean", ["x"], "y", new NodeAttribute("axes", Ints: [2, 3])).Output("y", -1, 8, 1, 1).ToBytes(),
        "Transpose" => new GraphWriter().Input("x", -1, 8, 6, 6).Node("Transpose", ["x"], "y", new NodeAttribute("perm", Ints: [0, 2, 3, 1])).Output("y", -1, 6, 6, 8).ToBytes(),
        _ => throw new ArgumentException(op),
    };

    [Theory, MemberData(nameof(Ops))]
    public void A_warm_run_of_the_op_allocates_nothing(string op)
    {
        foreach (int degree in new[] { 1, 2 })
        {
            OnnxModel model = OnnxModel.Load(Model(op), op, new OnnxModelOptions { MaxDegreeOfParallelism = degree });
            float[] x = new float[model.InputLength(2)], y = new float[model.OutputLength(2)];
            for (int i = 0; i < 40; i++) model.Run(x, y);
            Thread.Sleep(150);
            for (int i = 0; i < 40; i++) model.Run(x, y);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 5; i++) model.Run(x, y);
            long after = GC.GetAllocatedBytesForCurrentThread();
            Assert.True(after == before, $"{op} at degree {degree}: {(after - before) / 5} bytes per run");
        }
    }
}
