namespace Kernels.Tests;

/// <summary>Deterministic test data from a seed, so a failing FsCheck case replays exactly.</summary>
public static class TestData
{
    public static double[] Doubles(int seed, int count, double lo = -1, double hi = 1)
    {
        var rng = new Random(seed);
        var a = new double[count];
        for (int i = 0; i < count; i++) a[i] = lo + (hi - lo) * rng.NextDouble();
        return a;
    }

    public static float[] Floats(int seed, int count, float lo = -1, float hi = 1)
    {
        var rng = new Random(seed);
        var a = new float[count];
        for (int i = 0; i < count; i++) a[i] = lo + (hi - lo) * rng.NextSingle();
        return a;
    }

    /// <summary>Values at least <paramref name="gap"/> away from zero (keeps a finite difference off ReLU's kink).</summary>
    public static double[] AwayFromZero(int seed, int count, double gap = 0.05)
    {
        double[] a = Doubles(seed, count);
        for (int i = 0; i < a.Length; i++) a[i] = Math.CopySign(gap + Math.Abs(a[i]), a[i]);
        return a;
    }

    /// <summary>A shuffled set of distinct values spaced 0.01 apart (no ties, so max pooling is differentiable).</summary>
    public static double[] Distinct(int seed, int count)
    {
        var rng = new Random(seed);
        var a = new double[count];
        for (int i = 0; i < count; i++) a[i] = (i - count / 2) * 0.01;
        rng.Shuffle(a);
        return a;
    }

    public static int[] Labels(int seed, int count, int classes)
    {
        var rng = new Random(seed);
        var a = new int[count];
        for (int i = 0; i < count; i++) a[i] = rng.Next(classes);
        return a;
    }

    public static float[] ToFloat(double[] a) => Array.ConvertAll(a, v => (float)v);
}
