using FsCheck;
using FsCheck.Fluent;
using Kernels;

namespace Kernels.Tests;

/// <summary>What the convolution tests need of a generated problem: its shapes, parameters and data seed.</summary>
public interface IConvProblem
{
    Shape4 X { get; }
    Shape4 Filter { get; }
    Conv2DParams P { get; }
    Shape4 Y { get; }
    int F { get; }
    int Seed { get; }
}

/// <summary>A convolution problem, valid by construction: H + 2*Pad &gt;= HH and W + 2*Pad &gt;= WW.</summary>
public sealed record ConvCase(int N, int C, int H, int W, int F, int HH, int WW, int Stride, int Pad, int Seed) : IConvProblem
{
    public Shape4 X => new(N, C, H, W);
    public Shape4 Filter => new(F, C, HH, WW);
    public Conv2DParams P => new(Stride, Pad);
    public Shape4 Y => Geometry.Conv2DOutput(X, Filter, F, P);
    public bool IsValid => H + 2 * Pad >= HH && W + 2 * Pad >= WW;
    public override string ToString() => $"x ({N},{C},{H},{W}) w ({F},{C},{HH},{WW}) stride {Stride} pad {Pad} seed {Seed}";
}

/// <summary>A pooling problem, valid by construction: the window fits in the input.</summary>
public sealed record PoolCase(int N, int C, int H, int W, int PoolHeight, int PoolWidth, int Stride, int Seed)
{
    public Shape4 X => new(N, C, H, W);
    public Pool2DParams P => new(PoolHeight, PoolWidth, Stride);
    public Shape4 Y => Geometry.Pool2DOutput(X, P);
    public bool IsValid => H >= PoolHeight && W >= PoolWidth;
    public override string ToString() => $"x ({N},{C},{H},{W}) window {PoolHeight}x{PoolWidth} stride {Stride} seed {Seed}";
}

/// <summary>A matrix problem: N rows, D inputs, M outputs (affine, losses with M classes, GEMM M x N x K).</summary>
public sealed record MatCase(int N, int D, int M, int Seed)
{
    public override string ToString() => $"N {N} D {D} M {M} seed {Seed}";
}

/// <summary>Bounds for generated shapes; small bounds keep gradient checks cheap and counterexamples readable.</summary>
public sealed record Bounds(int MaxN, int MaxC, int MaxHW, int MaxF, int MaxK, int MaxStride, int MaxMat);

/// <summary>
/// Generators and one-dimension-at-a-time shrinkers. Every shape they make is valid, so a failure is always a
/// kernel bug, never a rejected argument.
/// </summary>
public static class CaseGen
{
    public static Gen<ConvCase> Conv(Bounds b) =>
        from hh in Gen.Choose(1, b.MaxK)
        from ww in Gen.Choose(1, b.MaxK)
        from pad in Gen.Choose(0, Math.Max(hh, ww) - 1)
        from stride in Gen.Choose(1, b.MaxStride)
        from h in Gen.Choose(Math.Max(1, hh - 2 * pad), Math.Max(b.MaxHW, hh))
        from w in Gen.Choose(Math.Max(1, ww - 2 * pad), Math.Max(b.MaxHW, ww))
        from n in Gen.Choose(1, b.MaxN)
        from c in Gen.Choose(1, b.MaxC)
        from f in Gen.Choose(1, b.MaxF)
        from seed in Gen.Choose(0, int.MaxValue)
        select new ConvCase(n, c, h, w, f, hh, ww, stride, pad, seed);

    public static IEnumerable<ConvCase> Shrink(ConvCase x) =>
        new[]
        {
            x with { N = x.N - 1 }, x with { C = x.C - 1 }, x with { F = x.F - 1 },
            x with { H = x.H - 1 }, x with { W = x.W - 1 }, x with { HH = x.HH - 1 }, x with { WW = x.WW - 1 },
            x with { Stride = x.Stride - 1 }, x with { Pad = x.Pad - 1 },
        }.Where(c => c.N >= 1 && c.C >= 1 && c.F >= 1 && c.H >= 1 && c.W >= 1 && c.HH >= 1 && c.WW >= 1
                     && c.Stride >= 1 && c.Pad >= 0 && c.IsValid);

    public static Gen<PoolCase> Pool(Bounds b) =>
        from ph in Gen.Choose(1, b.MaxK)
        from pw in Gen.Choose(1, b.MaxK)
        from stride in Gen.Choose(1, b.MaxStride)
        from h in Gen.Choose(ph, Math.Max(b.MaxHW, ph))
        from w in Gen.Choose(pw, Math.Max(b.MaxHW, pw))
        from n in Gen.Choose(1, b.MaxN)
        from c in Gen.Choose(1, b.MaxC)
        from seed in Gen.Choose(0, int.MaxValue)
        select new PoolCase(n, c, h, w, ph, pw, stride, seed);

    public static IEnumerable<PoolCase> Shrink(PoolCase x) =>
        new[]
        {
            x with { N = x.N - 1 }, x with { C = x.C - 1 }, x with { H = x.H - 1 }, x with { W = x.W - 1 },
            x with { PoolHeight = x.PoolHeight - 1 }, x with { PoolWidth = x.PoolWidth - 1 }, x with { Stride = x.Stride - 1 },
        }.Where(c => c.N >= 1 && c.C >= 1 && c.H >= 1 && c.W >= 1 && c.PoolHeight >= 1 && c.PoolWidth >= 1 && c.Stride >= 1 && c.IsValid);

    public static Gen<MatCase> Mat(Bounds b) =>
        from n in Gen.Choose(1, b.MaxN)
        from d in Gen.Choose(1, b.MaxMat)
        from m in Gen.Choose(1, b.MaxMat)
        from seed in Gen.Choose(0, int.MaxValue)
        select new MatCase(n, d, m, seed);

    public static IEnumerable<MatCase> Shrink(MatCase x) =>
        new[] { x with { N = x.N - 1 }, x with { D = x.D - 1 }, x with { M = x.M - 1 } }
            .Where(c => c.N >= 1 && c.D >= 1 && c.M >= 1);
}

/// <summary>Tiny shapes for double-precision gradient checks (each costs two forward passes per input element).</summary>
public static class GradCheckArbitraries
{
    private static readonly Bounds Small = new(MaxN: 2, MaxC: 3, MaxHW: 6, MaxF: 3, MaxK: 3, MaxStride: 3, MaxMat: 7);
    public static Arbitrary<ConvCase> Conv() => Arb.From(CaseGen.Conv(Small), CaseGen.Shrink);
    public static Arbitrary<PoolCase> Pool() => Arb.From(CaseGen.Pool(Small), CaseGen.Shrink);
    public static Arbitrary<MatCase> Mat() => Arb.From(CaseGen.Mat(Small with { MaxN = 5 }), CaseGen.Shrink);
}

/// <summary>A property over the tiny gradient-check shapes; 60 cases each keeps the suite fast.</summary>
public sealed class GradCheckPropertyAttribute : FsCheck.Xunit.PropertyAttribute
{
    public GradCheckPropertyAttribute()
    {
        Arbitrary = [typeof(GradCheckArbitraries)];
        MaxTest = 60;
    }
}
