using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Kernels.Simd;

/// <summary>
/// The few vector operations the kernels need, as static members of a struct per width, so that one generic loop
/// driver or microkernel serves Vector512, Vector256, Vector128 and plain scalars (<see cref="ScalarOps"/>, one
/// lane) alike. The JIT specialises generics over structs, so these calls compile to single instructions.
/// </summary>
internal interface IVectorOps<TVec> where TVec : struct
{
    /// <summary>Lanes per vector.</summary>
    static abstract int Count { get; }
    static abstract TVec Zero { get; }
    static abstract TVec Broadcast(float value);
    static abstract TVec Load(ref readonly float source);
    static abstract void Store(TVec value, ref float destination);
    /// <summary>A store that bypasses the caches (destination aligned to the vector size), for outputs too large to stay in them.</summary>
    static abstract unsafe void StoreNonTemporal(TVec value, float* destination);
    /// <summary><c>a * b + c</c> with one rounding.</summary>
    static abstract TVec MultiplyAdd(TVec a, TVec b, TVec c);
    static abstract TVec Multiply(TVec a, TVec b);
    static abstract TVec Add(TVec a, TVec b);
    /// <summary>IEEE 754-2019 maximum: NaN if either is NaN, +0 over -0.</summary>
    static abstract TVec Max(TVec a, TVec b);
    /// <summary>Lanes of <paramref name="value"/> where <c>x &gt; 0</c>, +0 elsewhere (0 also where x is NaN).</summary>
    static abstract TVec WherePositive(TVec x, TVec value);
    /// <summary>All-ones lanes where <c>x &lt;= 0</c> (also -0; not where x is NaN), zero elsewhere.</summary>
    static abstract TVec AtMostZero(TVec x);
    static abstract TVec Subtract(TVec a, TVec b);
    static abstract TVec Divide(TVec a, TVec b);
    /// <summary>All-ones lanes where <c>a == b</c> or a is NaN (a window's candidates for the gradient).</summary>
    static abstract TVec EqualsOrNaN(TVec a, TVec b);
    static abstract TVec And(TVec a, TVec b);
    static abstract TVec AndNot(TVec a, TVec notMask);
    static abstract TVec Or(TVec a, TVec b);
    /// <summary>The sum of the lanes (in the runtime's fixed order).</summary>
    static abstract float Sum(TVec x);
    /// <summary>IEEE 754-2019 minimum: NaN if either is NaN, -0 under +0.</summary>
    static abstract TVec Min(TVec a, TVec b);
    static abstract TVec Abs(TVec x);
    /// <summary>All-ones lanes where <c>a &lt; b</c> (never where either is NaN), zero elsewhere.</summary>
    static abstract TVec LessThan(TVec a, TVec b);
    /// <summary>All-ones lanes where <c>a &gt; b</c> (never where either is NaN), zero elsewhere.</summary>
    static abstract TVec GreaterThan(TVec a, TVec b);
    /// <summary>Bitwise <c>(mask &amp; ifTrue) | (~mask &amp; ifFalse)</c>; masks come from the comparisons.</summary>
    static abstract TVec Select(TVec mask, TVec ifTrue, TVec ifFalse);
    /// <summary>
    /// e^x lane by lane: the runtime's vector Exp (the code TensorPrimitives.Exp runs) at every width, MathF.Exp on
    /// one lane; its error is part of each activation's measured bound (docs/semantics.md).
    /// </summary>
    static abstract TVec Exp(TVec x);
    /// <summary>
    /// Lane l = source[l * stride] for l &lt; count; lanes from count on repeat source[(count - 1) * stride], so no
    /// read leaves the count elements. A hardware gather where there is one.
    /// </summary>
    static abstract unsafe TVec Gather(float* source, int stride, int count);
    /// <summary>Even-indexed elements of the concatenation [lo, hi] (deinterleave, for stride-2 windows).</summary>
    static abstract TVec Even(TVec lo, TVec hi);
    /// <summary>Odd-indexed elements of the concatenation [lo, hi].</summary>
    static abstract TVec Odd(TVec lo, TVec hi);
    /// <summary>First half of the interleave [a0, b0, a1, b1, ...] (the inverse of Even/Odd).</summary>
    static abstract TVec ZipLow(TVec a, TVec b);
    /// <summary>Second half of the interleave [a0, b0, a1, b1, ...].</summary>
    static abstract TVec ZipHigh(TVec a, TVec b);
}

internal readonly struct V512 : IVectorOps<Vector512<float>>
{
    public static int Count => Vector512<float>.Count;
    public static Vector512<float> Zero => Vector512<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Broadcast(float value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(ref readonly float source) => Vector512.LoadUnsafe(in source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<float> value, ref float destination) => value.StoreUnsafe(ref destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe void StoreNonTemporal(Vector512<float> value, float* destination) => value.StoreAlignedNonTemporal(destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> WherePositive(Vector512<float> x, Vector512<float> value) => Vector512.GreaterThan(x, Vector512<float>.Zero) & value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> AtMostZero(Vector512<float> x) => Vector512.LessThanOrEqual(x, Vector512<float>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Subtract(Vector512<float> a, Vector512<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Divide(Vector512<float> a, Vector512<float> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> EqualsOrNaN(Vector512<float> a, Vector512<float> b) => Vector512.Equals(a, b) | ~Vector512.Equals(a, a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> And(Vector512<float> a, Vector512<float> b) => a & b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> AndNot(Vector512<float> a, Vector512<float> notMask) => Vector512.AndNot(a, notMask);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Or(Vector512<float> a, Vector512<float> b) => a | b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Min(Vector512<float> a, Vector512<float> b) => Vector512.Min(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Abs(Vector512<float> x) => Vector512.Abs(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> LessThan(Vector512<float> a, Vector512<float> b) => Vector512.LessThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> GreaterThan(Vector512<float> a, Vector512<float> b) => Vector512.GreaterThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Select(Vector512<float> mask, Vector512<float> ifTrue, Vector512<float> ifFalse) => Vector512.ConditionalSelect(mask, ifTrue, ifFalse);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Exp(Vector512<float> x) => Vector512.Exp(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector512<float> x) => Vector512.Sum(x);
    // .NET has no 512-bit gather intrinsic: two 256-bit ones.
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe Vector512<float> Gather(float* source, int stride, int count)
    {
        Vector256<int> last = Vector256.Create(count - 1);
        return Vector512.Create(Avx2.GatherVector256(source, Vector256.Min(Vector256<int>.Indices, last) * stride, 4),
            Avx2.GatherVector256(source, Vector256.Min(Vector256<int>.Indices + Vector256.Create(8), last) * stride, 4));
    }

    // AVX-512's two-source permute does each in one instruction. The indices are constants in the code, not static
    // readonly fields: methods compiled straight to optimized code (AggressiveOptimization) before this type's static
    // constructor has run would read such a field through a class-initialization check inside their hot loop (that
    // made the stride-2 direct convolution 3x slower until something else had initialized the type).
    private static Vector512<int> EvenIndex => Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    private static Vector512<int> OddIndex => Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    private static Vector512<int> LowIndex => Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    private static Vector512<int> HighIndex => Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Even(Vector512<float> lo, Vector512<float> hi) => Avx512F.PermuteVar16x32x2(lo, EvenIndex, hi);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Odd(Vector512<float> lo, Vector512<float> hi) => Avx512F.PermuteVar16x32x2(lo, OddIndex, hi);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> ZipLow(Vector512<float> a, Vector512<float> b) => Avx512F.PermuteVar16x32x2(a, LowIndex, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> ZipHigh(Vector512<float> a, Vector512<float> b) => Avx512F.PermuteVar16x32x2(a, HighIndex, b);
}

internal readonly struct V256 : IVectorOps<Vector256<float>>
{
    public static int Count => Vector256<float>.Count;
    public static Vector256<float> Zero => Vector256<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Broadcast(float value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(ref readonly float source) => Vector256.LoadUnsafe(in source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<float> value, ref float destination) => value.StoreUnsafe(ref destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe void StoreNonTemporal(Vector256<float> value, float* destination) => value.StoreAlignedNonTemporal(destination);
    // Fused where the hardware fuses; Vector256.FusedMultiplyAdd without FMA would be emulated lane by lane.
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        Fma.IsSupported ? Vector256.FusedMultiplyAdd(a, b, c) : a * b + c;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Vector256.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> WherePositive(Vector256<float> x, Vector256<float> value) => Vector256.GreaterThan(x, Vector256<float>.Zero) & value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> AtMostZero(Vector256<float> x) => Vector256.LessThanOrEqual(x, Vector256<float>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Subtract(Vector256<float> a, Vector256<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Divide(Vector256<float> a, Vector256<float> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> EqualsOrNaN(Vector256<float> a, Vector256<float> b) => Vector256.Equals(a, b) | ~Vector256.Equals(a, a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> And(Vector256<float> a, Vector256<float> b) => a & b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> AndNot(Vector256<float> a, Vector256<float> notMask) => Vector256.AndNot(a, notMask);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Or(Vector256<float> a, Vector256<float> b) => a | b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Min(Vector256<float> a, Vector256<float> b) => Vector256.Min(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Abs(Vector256<float> x) => Vector256.Abs(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> LessThan(Vector256<float> a, Vector256<float> b) => Vector256.LessThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> GreaterThan(Vector256<float> a, Vector256<float> b) => Vector256.GreaterThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Select(Vector256<float> mask, Vector256<float> ifTrue, Vector256<float> ifFalse) => Vector256.ConditionalSelect(mask, ifTrue, ifFalse);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Exp(Vector256<float> x) => Vector256.Exp(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector256<float> x) => Vector256.Sum(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe Vector256<float> Gather(float* source, int stride, int count) =>
        Avx2.GatherVector256(source, Vector256.Min(Vector256<int>.Indices, Vector256.Create(count - 1)) * stride, 4);

    // AVX2: shuffle within 128-bit lanes, then fix the lane order with one cross-lane permute.
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Even(Vector256<float> lo, Vector256<float> hi) =>
        Avx2.Permute4x64(Avx.Shuffle(lo, hi, 0b10_00_10_00).AsDouble(), 0b11_01_10_00).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Odd(Vector256<float> lo, Vector256<float> hi) =>
        Avx2.Permute4x64(Avx.Shuffle(lo, hi, 0b11_01_11_01).AsDouble(), 0b11_01_10_00).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> ZipLow(Vector256<float> a, Vector256<float> b) =>
        Avx.Permute2x128(Avx.UnpackLow(a, b), Avx.UnpackHigh(a, b), 0x20);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> ZipHigh(Vector256<float> a, Vector256<float> b) =>
        Avx.Permute2x128(Avx.UnpackLow(a, b), Avx.UnpackHigh(a, b), 0x31);
}

internal readonly struct V128 : IVectorOps<Vector128<float>>
{
    public static int Count => Vector128<float>.Count;
    public static Vector128<float> Zero => Vector128<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Broadcast(float value) => Vector128.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(ref readonly float source) => Vector128.LoadUnsafe(in source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<float> value, ref float destination) => value.StoreUnsafe(ref destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe void StoreNonTemporal(Vector128<float> value, float* destination) => value.StoreAlignedNonTemporal(destination);
    // SSE without FMA (and WebAssembly SIMD) would emulate the fused form lane by lane in software, ~100x slower
    // (GEMM 200x300x250 took 52 ms on the DOTNET_EnableAVX2=0 path): there it is a multiply and an add.
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) =>
        Fma.IsSupported || AdvSimd.IsSupported ? Vector128.FusedMultiplyAdd(a, b, c) : a * b + c;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Multiply(Vector128<float> a, Vector128<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Max(Vector128<float> a, Vector128<float> b) => Vector128.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> WherePositive(Vector128<float> x, Vector128<float> value) => Vector128.GreaterThan(x, Vector128<float>.Zero) & value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> AtMostZero(Vector128<float> x) => Vector128.LessThanOrEqual(x, Vector128<float>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Subtract(Vector128<float> a, Vector128<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Divide(Vector128<float> a, Vector128<float> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> EqualsOrNaN(Vector128<float> a, Vector128<float> b) => Vector128.Equals(a, b) | ~Vector128.Equals(a, a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> And(Vector128<float> a, Vector128<float> b) => a & b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> AndNot(Vector128<float> a, Vector128<float> notMask) => Vector128.AndNot(a, notMask);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Or(Vector128<float> a, Vector128<float> b) => a | b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Min(Vector128<float> a, Vector128<float> b) => Vector128.Min(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Abs(Vector128<float> x) => Vector128.Abs(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> LessThan(Vector128<float> a, Vector128<float> b) => Vector128.LessThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> GreaterThan(Vector128<float> a, Vector128<float> b) => Vector128.GreaterThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Select(Vector128<float> mask, Vector128<float> ifTrue, Vector128<float> ifFalse) => Vector128.ConditionalSelect(mask, ifTrue, ifFalse);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Exp(Vector128<float> x) => Vector128.Exp(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector128<float> x) => Vector128.Sum(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe Vector128<float> Gather(float* source, int stride, int count) =>
        Avx2.IsSupported ? Avx2.GatherVector128(source, Vector128.Min(Vector128<int>.Indices, Vector128.Create(count - 1)) * stride, 4)
        : Vector128.Create(source[0], source[Math.Min(1, count - 1) * stride], source[Math.Min(2, count - 1) * stride], source[Math.Min(3, count - 1) * stride]);

    // SSE shuffles or NEON unzip/zip; any other Vector128 hardware takes the element-wise fallback.
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Even(Vector128<float> lo, Vector128<float> hi) =>
        Sse.IsSupported ? Sse.Shuffle(lo, hi, 0b10_00_10_00) : AdvSimd.Arm64.IsSupported ? AdvSimd.Arm64.UnzipEven(lo, hi)
        : Vector128.Create(lo[0], lo[2], hi[0], hi[2]);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Odd(Vector128<float> lo, Vector128<float> hi) =>
        Sse.IsSupported ? Sse.Shuffle(lo, hi, 0b11_01_11_01) : AdvSimd.Arm64.IsSupported ? AdvSimd.Arm64.UnzipOdd(lo, hi)
        : Vector128.Create(lo[1], lo[3], hi[1], hi[3]);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> ZipLow(Vector128<float> a, Vector128<float> b) =>
        Sse.IsSupported ? Sse.UnpackLow(a, b) : AdvSimd.Arm64.IsSupported ? AdvSimd.Arm64.ZipLow(a, b) : Vector128.Create(a[0], b[0], a[1], b[1]);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> ZipHigh(Vector128<float> a, Vector128<float> b) =>
        Sse.IsSupported ? Sse.UnpackHigh(a, b) : AdvSimd.Arm64.IsSupported ? AdvSimd.Arm64.ZipHigh(a, b) : Vector128.Create(a[2], b[2], a[3], b[3]);
}

/// <summary>One-lane "vectors": the portable path when no SIMD width is hardware-accelerated.</summary>
internal readonly struct ScalarOps : IVectorOps<float>
{
    public static int Count => 1;
    public static float Zero => 0f;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Broadcast(float value) => value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Load(ref readonly float source) => source;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float value, ref float destination) => destination = value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe void StoreNonTemporal(float value, float* destination) => *destination = value;
    // As V128: MathF.FusedMultiplyAdd is a software routine where the hardware has no FMA.
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MultiplyAdd(float a, float b, float c) =>
        Fma.IsSupported || AdvSimd.IsSupported ? MathF.FusedMultiplyAdd(a, b, c) : a * b + c;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Multiply(float a, float b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Add(float a, float b) => a + b;
    // A NaN operand is returned as it is (payload kept), as the vector Max does for one NaN.
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Max(float a, float b) => float.IsNaN(a) ? a : float.IsNaN(b) ? b : a > b ? a : b > a ? b : (float.IsNegative(a) ? b : a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float WherePositive(float x, float value) => x > 0f ? value : 0f;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float AtMostZero(float x) => x <= 0f ? AllOnes : 0f;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Subtract(float a, float b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Divide(float a, float b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float EqualsOrNaN(float a, float b) => a == b || float.IsNaN(a) ? AllOnes : 0f;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float And(float a, float b) => BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(a) & BitConverter.SingleToInt32Bits(b));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float AndNot(float a, float notMask) => BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(a) & ~BitConverter.SingleToInt32Bits(notMask));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Or(float a, float b) => BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(a) | BitConverter.SingleToInt32Bits(b));
    // As the vector Min: a NaN operand is returned as it is, -0 is below +0.
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Min(float a, float b) => float.IsNaN(a) ? a : float.IsNaN(b) ? b : a < b ? a : b < a ? b : (float.IsNegative(a) ? a : b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Abs(float x) => MathF.Abs(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float LessThan(float a, float b) => a < b ? AllOnes : 0f;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float GreaterThan(float a, float b) => a > b ? AllOnes : 0f;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Select(float mask, float ifTrue, float ifFalse) => Or(And(mask, ifTrue), AndNot(ifFalse, mask));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Exp(float x) => MathF.Exp(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(float x) => x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe float Gather(float* source, int stride, int count) => *source;
    // One lane: [lo, hi] has two elements, so "even" is lo and "odd" is hi; zipping is the inverse.
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Even(float lo, float hi) => lo;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Odd(float lo, float hi) => hi;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float ZipLow(float a, float b) => a;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float ZipHigh(float a, float b) => b;
    private static float AllOnes => BitConverter.Int32BitsToSingle(-1); // a constant, not a field (see V512's indices)
}

/// <summary>Which vector width the fast kernels use on this machine (decided by the runtime's ISA switches).</summary>
public enum SimdWidth
{
    /// <summary>No hardware-accelerated vectors: one-lane scalar code.</summary>
    Scalar = 1,
    /// <summary>Vector128 (SSE, NEON).</summary>
    Vector128 = 4,
    /// <summary>Vector256 (AVX2 + FMA).</summary>
    Vector256 = 8,
    /// <summary>Vector512 (AVX-512F).</summary>
    Vector512 = 16,
}

/// <summary>The widest accelerated vector width; only the drivers look at it.</summary>
public static class Isa
{
    /// <summary>The width the fast kernels run at: Vector512 if accelerated, else Vector256, else Vector128, else scalar.</summary>
    public static SimdWidth Width { get; } =
        Vector512.IsHardwareAccelerated ? SimdWidth.Vector512 :
        Vector256.IsHardwareAccelerated ? SimdWidth.Vector256 :
        Vector128.IsHardwareAccelerated ? SimdWidth.Vector128 : SimdWidth.Scalar;
}
