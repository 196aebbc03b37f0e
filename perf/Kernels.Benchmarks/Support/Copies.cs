namespace Kernels.Benchmarks;

/// <summary>The bandwidth baselines: a span copy, split in two halves on two threads when asked (not our runtime: a plain reference).</summary>
public static class Copies
{
    public static void Run(float[] from, float[] to, int threads)
    {
        if (threads == 1)
        {
            from.AsSpan().CopyTo(to);
            return;
        }
        int half = from.Length / 2 / 16 * 16;
        Parallel.Invoke(() => from.AsSpan(0, half).CopyTo(to), () => from.AsSpan(half).CopyTo(to.AsSpan(half)));
    }
}
