using System.Runtime.Intrinsics;
using Kernels.GemmInternals;
using Kernels.Simd;

namespace Kernels.Tests.Simd;

/// <summary>
/// Each CI leg proves the SIMD width it ran: <c>.ci/run</c> sets <see cref="ExpectVariable"/> to the width its ISA
/// switch must leave, and this test fails when the kernels run another one. (On .NET 10 <c>DOTNET_EnableAVX512F=0</c>
/// no longer turns AVX-512 off, and the "Vector256" leg silently tested Vector512 again.)
/// </summary>
[Trait("Category", "Kernel")]
public class IsaLegTests
{
    public const string ExpectVariable = "KERNELS_EXPECT_SIMD_WIDTH";

    [Fact]
    public void The_kernels_run_the_width_this_leg_expects()
    {
        // The drivers, the GEMM blocking and the runtime agree on one width...
        SimdWidth runtime = Vector512.IsHardwareAccelerated ? SimdWidth.Vector512 : Vector256.IsHardwareAccelerated ? SimdWidth.Vector256
            : Vector128.IsHardwareAccelerated ? SimdWidth.Vector128 : SimdWidth.Scalar;
        Assert.Equal(runtime, Isa.Width);
        Assert.Equal(2 * (int)Isa.Width, GemmBlocking.Current.NR); // every microkernel is two vectors wide
        // ... and it is the one the leg asked for.
        string? expected = Environment.GetEnvironmentVariable(ExpectVariable);
        if (expected is { Length: > 0 })
            Assert.True(Enum.Parse<SimdWidth>(expected) == Isa.Width, $"{ExpectVariable}={expected} but the kernels run {Isa.Width}");
    }
}

/// <summary>
/// Runs in the default leg only: it starts its own children with each switch and compares the one without switches
/// with this process, so under a switch (<c>DOTNET_EnableAVX512=0 dotnet test</c>) it skips, saying why.
/// </summary>
public class IsaSwitchTests
{
    /// <summary>
    /// The switches the CI legs use narrow the width one step each on this machine (child processes), so no leg
    /// repeats another: the widest width the machine offers, then at most Vector256, Vector128 and scalar.
    /// </summary>
    [DefaultLegFact]
    public void Each_isa_switch_used_by_ci_runs_a_narrower_width()
    {
        SimdWidth Width(string? variable)
        {
            var env = variable is null ? null : new Dictionary<string, string> { [variable] = "0" };
            ChildProcess.Result r = ChildProcess.Run(["isa-width"], env);
            Assert.True(r.ExitCode == 0, r.ToString());
            return Enum.Parse<SimdWidth>(r.Output.Trim());
        }

        SimdWidth all = Width(null), no512 = Width("DOTNET_EnableAVX512"), noAvx2 = Width("DOTNET_EnableAVX2"), none = Width("DOTNET_EnableHWIntrinsic");
        Assert.Equal(Isa.Width, all);
        Assert.True(no512 <= SimdWidth.Vector256, $"DOTNET_EnableAVX512=0 left {no512}");
        Assert.True(noAvx2 <= SimdWidth.Vector128, $"DOTNET_EnableAVX2=0 left {noAvx2}");
        Assert.Equal(SimdWidth.Scalar, none);
        if (all == SimdWidth.Vector512) Assert.Equal(SimdWidth.Vector256, no512); // the Vector256 leg runs Vector256
    }
}
