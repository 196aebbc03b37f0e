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
