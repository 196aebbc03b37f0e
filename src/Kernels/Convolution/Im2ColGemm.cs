using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Kernels.GemmInternals;
using Kernels.Threading;

namespace Kernels.Convolution;

/// <summary>
/// Convolution as im2col + packed GEMM (the library's general algorithm: any filter, stride, padding, dilation and
/// groups; with groups each group is its own GEMM of F / groups filters over C / groups channels, on the same
/// scratch). The
/// forward pass writes im2col of chunks of output pixels straight into the GEMM's packed panels (im2col fused into
/// packing), with the bias as one more reduction column; the input gradient goes through W^T x dout per chunk and
/// col2im; the filter gradient packs its panels straight from the image. Scratch per thread (kept for reuse),
/// whatever the batch size: the packed filters ((F + 15) x (K + 1) floats, K = C*HH*WW), one chunk of columns (about
/// max(1 MiB, 2 KiB * K) plus up to 128 * (K + 1) bytes of panel padding), the GEMM's panels when it packs (at most
/// about 4 MiB + 1 KiB * M with AVX-512) and, for padded geometries other than stride-1 "same", a zero-padded copy of
/// one group of one image (C / groups x (H + padTop + padBottom) x (W + padLeft + padRight) floats).
/// </summary>
internal sealed unsafe class Im2ColGemm : IConvAlgorithm
{
    public static readonly Im2ColGemm Instance = new();

    private Im2ColGemm() { }

    public Conv2DAlgorithm Kind => Conv2DAlgorithm.Im2ColGemm;
    public Conv2DAlgorithm FilterForm => Conv2DAlgorithm.Im2ColGemm;
    public string Requirement => "any geometry";
    public bool Supports(Shape4 w, Conv2DParams p) => true;
    long IConvAlgorithm.FilterLength(in ConvGeometry g) => FilterLength(g);
    void IConvAlgorithm.PrepareFilters(in ConvGeometry g, float* w, float* b, float* dst, int degree) => PackFilters(g, w, b, dst);
    void IConvAlgorithm.EnsureForwardScratchFits(in ConvGeometry g) => EnsureForwardScratchFits(g);
    void IConvAlgorithm.Forward(in ConvGeometry g, float* x, float* prepared, float* b, float* y, int degree) => Forward(g, x, prepared, b, y, degree);
    void IConvAlgorithm.EnsureBackwardScratchFits(in ConvGeometry g) => EnsureBackwardScratchFits(g);

    /// <summary>db, then dx = col2im(W^T dout), then dw = dout im2col(x)^T.</summary>
    public void Backward(in ConvGeometry g, float* dout, float* x, float* w, float* dx, float* dw, float* db, int degree)
    {
        BiasGradient(dout, db, g.Images, g.Filters, g.Pixels, degree);
        BackwardData(g, dout, w, dx, degree);
        BackwardFilter(g, dout, x, dw, degree);
    }

    /// <summary>
    /// Below about this many multiply-adds per thread a convolution uses fewer threads (a fork-join costs a few
    /// microseconds, about 2^20 multiply-adds at 100+ GFLOP/s).
    /// </summary>
    internal const long MinMultiplyAddsPerThread = 1 << 20;

    /// <summary>Below this many elements per thread a memory-bound pass (db's sums) stays on fewer threads.</summary>
    internal const long MinElementsPerThread = 1 << 16;

    /// <summary>Reduction length of the forward GEMM: K, plus the bias column unless pointwise.</summary>
    private static int Reduction(in ConvGeometry g) => g.IsPointwise ? g.K : g.K + 1;

    /// <summary>Floats of one group's packed filters: [W | b] (F / groups x (K + 1)) in A panels, or W alone for
    /// pointwise convolutions.</summary>
    internal static long GroupFilterLength(in ConvGeometry g) => PrePacked.Length(g.GroupFilters, Reduction(g));

    /// <summary>Floats of the packed filters: every group's, one after the other.</summary>
    public static long FilterLength(in ConvGeometry g) => g.Groups * GroupFilterLength(g);

    /// <summary>Floats of one group's packed W^T (K x F / groups) for the input gradient.</summary>
    private static long GroupTransposedLength(in ConvGeometry g) => PrePacked.Length(g.K, g.GroupFilters);

    /// <summary>
    /// Throws <see cref="OutOfMemoryException"/> before anything is written when a buffer the forward pass needs
    /// would exceed <see cref="Scratch.MaxLength"/>: the packed filters and a chunk of columns (the padded copy is
    /// bounded by <see cref="ConvGeometry.ReadsPaddedCopy"/>).
    /// </summary>
    public static void EnsureForwardScratchFits(in ConvGeometry g)
    {
        int nr = GemmBlocking.For(g.GroupFilters).NR;
        Scratch.EnsureFits(Scratch.Role.Weights, FilterLength(g));
        Scratch.EnsureFits(Scratch.Role.Columns, (long)Reduction(g) * ((g.ChunkPixels + nr - 1L) / nr * nr));
    }

    /// <summary>As <see cref="EnsureForwardScratchFits"/> for the backward pass: W^T packed and a chunk of column gradients.</summary>
    public static void EnsureBackwardScratchFits(in ConvGeometry g)
    {
        Scratch.EnsureFits(Scratch.Role.Weights, g.Groups * GroupTransposedLength(g));
        Scratch.EnsureFits(Scratch.Role.Columns, (long)g.K * g.ChunkPixels);
    }

    /// <summary>
    /// Packs the filters once per call (or once per <see cref="PreparedConv2DFilters"/>); every chunk of every image
    /// reuses them (best of 21 runs, one thread: (c) 73.6 -> 85.6 GFLOP/s, (d) 85.4 -> 94.9, (e) 78.3 -> 84.0). Except
    /// for pointwise convolutions, the bias rides along as one more reduction column [W | b] against a row of ones
    /// under the im2col rows, so y is written once by the GEMM instead of being filled with b and read back. Groups
    /// are packed one after the other.
    /// </summary>
    public static void PackFilters(in ConvGeometry g, float* pw, float* pb, float* packedW)
    {
        int fg = g.GroupFilters;
        for (int group = 0; group < g.Groups; group++)
        {
            float* w = pw + (long)group * fg * g.K, dst = packedW + group * GroupFilterLength(g);
            if (g.IsPointwise) PrePacked.Pack(new MatrixPackA(w, g.K, transpose: false), fg, g.K, dst);
            else PrePacked.Pack(new FiltersAndBiasPackA(w, pb + (long)group * fg, g.K), fg, g.K + 1, dst);
        }
    }

    /// <summary>y = W * im2col(x) + b over all images, with the filters packed by <see cref="PackFilters"/>; validated
    /// by the caller.</summary>
    public static void Forward(in ConvGeometry g, float* px, float* packedW, float* pb, float* py, int degree)
    {
        var items = new ForwardItems(g, px, packedW, pb, py);
        int threads = Partition.Threads(degree, (long)g.Images * g.Pixels * Reduction(g) * g.Filters, MinMultiplyAddsPerThread);
        if (items.Count >= threads)
        {
            ForkJoin.Run(threads, ref items);
        }
        else
        {
            // Fewer (image, group, chunk) items than threads: they run in turn, each GEMM on every thread.
            var all = new Team(0, 1, null);
            items.Run(all, threads);
        }
    }

    /// <summary>db[f] = sum over images (in order) of the sum of dout's plane f; filters split between threads.</summary>
    public static void BiasGradient(float* dout, float* db, int images, int filters, int pixels, int degree) =>
        Parallelism.For(filters, Partition.Threads(degree, (long)images * pixels * filters, MinElementsPerThread), new BiasSums(dout, db, images, filters, pixels));

    /// <summary>dx = col2im(W^T dout), images in parallel; with fewer images than threads each image's GEMMs and col2im
    /// use every thread.</summary>
    public static void BackwardData(in ConvGeometry g, float* pdout, float* pw, float* pdx, int degree)
    {
        // Each group's W^T (K x F / groups) is packed into GEMM panels once per call, as the forward packs W.
        int fg = g.GroupFilters;
        float* packedWT = Scratch.Get(Scratch.Role.Weights, g.Groups * GroupTransposedLength(g));
        for (int group = 0; group < g.Groups; group++)
            PrePacked.Pack(new MatrixPackA(pw + (long)group * fg * g.K, g.K, transpose: true), g.K, fg, packedWT + group * GroupTransposedLength(g));
        int images = g.Images, threads = Partition.Threads(degree, (long)images * g.Pixels * g.K * g.Filters, MinMultiplyAddsPerThread);
        var dxJob = new BackwardDataImage(g, pdout, packedWT, pdx, images >= threads ? 1 : threads);
        Parallelism.For(images, images >= threads ? threads : 1, dxJob);
    }

    /// <summary>
    /// The forward pass as (image, group, chunk of output pixels) items, image-major: each member of the team takes one
    /// contiguous range of items, so with N = 50 images two threads take 25 images each, and with fewer images than
    /// threads they share an image by groups and chunks. Every item writes its own columns of y, computed exactly as on
    /// one thread. A member zero-pads each group of each image it reaches (in its own scratch) once.
    /// </summary>
    private readonly struct ForwardItems(ConvGeometry g, float* x, float* packedW, float* b, float* y) : ITeamBody
    {
        private int Chunks => g.IsPointwise ? 1 : (g.Pixels + g.ChunkPixels - 1) / g.ChunkPixels;

        public int Count => g.Images * g.Groups * Chunks;

        public void Invoke(in Team team) => Run(team, 1);

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(in Team team, int gemmDegree)
        {
            (int first, int end) = Partition.Range(Count, team.Index, team.Size);
            int chunks = Chunks, pixels = g.Pixels, fg = g.GroupFilters, padded = -1;
            long groupFilters = GroupFilterLength(g);
            float* copy = Scratch.Get(Scratch.Role.PaddedImage, g.ReadsPaddedCopy ? g.PaddedLength : 0);
            for (int item = first; item < end; item++)
            {
                int chunk = item % chunks, imageGroup = item / chunks, image = imageGroup / g.Groups, group = imageGroup % g.Groups;
                float* xn = x + image * g.InputImage + group * g.GroupInput;
                float* yn = y + image * g.OutputImage + (long)group * fg * pixels, wg = packedW + group * groupFilters;
                if (g.IsPointwise)
                {
                    // y[n] starts as the bias; the GEMM adds W * x[n] to it (beta = 1).
                    for (int f = 0; f < fg; f++) new Span<float>(yn + (long)f * pixels, pixels).Fill(b[group * fg + f]);
                    GemmCore.Run(new PrePackedA(wg, g.K), new MatrixPackB(xn, pixels, transpose: false), fg, pixels, g.K, 1f, 1f, yn, pixels, gemmDegree);
                    continue;
                }
                if (g.ReadsPaddedCopy && padded != imageGroup)
                {
                    g.PadImage(xn, copy);
                    padded = imageGroup;
                }
                new ForwardChunk(g, g.ReadsPaddedCopy ? copy : xn, wg, yn, fg).Run(chunk, gemmDegree);
            }
        }
    }

    /// <summary>
    /// One chunk of output pixels of one group of one image: im2col written straight into the GEMM's NR-wide B panels,
    /// which the microkernel then reads in place (one pass from the image instead of im2col + packing); row k of the
    /// panels is all ones, the partner of the bias column of the packed filters. image is the group's channels of x[n],
    /// or their zero-padded copy when the geometry reads one.
    /// </summary>
    private readonly struct ForwardChunk(ConvGeometry g, float* image, float* packedW, float* yn, int filters)
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(int index, int gemmDegree)
        {
            int pixels = g.Pixels, k = g.K, chunk = g.ChunkPixels, p0 = index * chunk, count = Math.Min(chunk, pixels - p0);
            int nr = GemmBlocking.For(filters).NR, reduction = k + 1;
            nint panelStride = (nint)reduction * nr;
            {
                float* pc = Scratch.Get(Scratch.Role.Columns, (long)reduction * RoundUp(chunk, nr));
                for (int r = 0; r < k; r++)
                {
                    float* row = pc + (nint)r * nr;
                    if (g.WindowsInsideSource) g.FillRowFromPadded(image, r, p0, count, row, nr, panelStride);
                    else g.FillRow(image, r, p0, count, row, nr, panelStride);
                }
                for (float* ones = pc + (nint)k * nr, end = ones + (count + nr - 1) / nr * panelStride; ones < end; ones += panelStride)
                    new Span<float>(ones, nr).Fill(1f);
                GemmCore.Run(new PrePackedA(packedW, reduction), new PrePackedB(pc, reduction), filters, count, reduction, 1f, 0f, yn + p0, pixels, gemmDegree);
            }
        }
    }

    private readonly struct BackwardDataImage(ConvGeometry g, float* dout, float* packedWT, float* dx, int gemmDegree) : IIndexAction
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Invoke(int image)
        {
            int pixels = g.Pixels, k = g.K, chunk = g.ChunkPixels, fg = g.GroupFilters;
            if (!g.IsPointwise) new Span<float>(dx + image * g.InputImage, (int)g.InputImage).Clear();
            for (int group = 0; group < g.Groups; group++)
            {
                float* dn = dout + image * g.OutputImage + (long)group * fg * pixels, dxn = dx + image * g.InputImage + group * g.GroupInput;
                var filtersT = new PrePackedA(packedWT + group * GroupTransposedLength(g), fg);
                if (g.IsPointwise)
                {
                    // dx[n] (C x HW) = W^T (C x F) * dout[n] (F x HW), written directly.
                    GemmCore.Run(filtersT, new MatrixPackB(dn, pixels, transpose: false), k, pixels, fg, 1f, 0f, dxn, pixels, gemmDegree);
                    continue;
                }
                float* pc = Scratch.Get(Scratch.Role.Columns, (long)k * chunk);
                for (int p0 = 0; p0 < pixels; p0 += chunk)
                {
                    int count = Math.Min(chunk, pixels - p0);
                    GemmCore.Run(filtersT, new MatrixPackB(dn + p0, pixels, transpose: false), k, count, fg, 1f, 0f, pc, count, gemmDegree);
                    if (gemmDegree > 1) Parallelism.For(g.GroupChannels, gemmDegree, new Col2ImChannels(g, pc, p0, count, dxn));
                    else g.Col2ImAdd(pc, p0, count, dxn);
                }
            }
        }
    }

    private readonly struct BiasSums(float* dout, float* db, int images, int filters, int pixels) : IIndexAction
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Invoke(int f)
        {
            float sum = 0f;
            for (int i = 0; i < images; i++) sum += TensorPrimitives.Sum(new ReadOnlySpan<float>(dout + ((long)i * filters + f) * pixels, pixels));
            db[f] = sum;
        }
    }

    /// <summary>col2im of channel c only: channels land in disjoint planes of dx.</summary>
    private readonly struct Col2ImChannels(ConvGeometry g, float* dcols, int p0, int count, float* dx) : IIndexAction
    {
        public void Invoke(int c) => g.Col2ImAdd(dcols, p0, count, dx, c, c + 1);
    }

    /// <summary>
    /// dw = sum over images of dout[n] (F x pixels) * im2col(x[n])^T (pixels x K), in one of two orders chosen by the
    /// geometry alone (never by the thread count, so results do not depend on it):
    /// <list type="bullet">
    /// <item>dw has at least <see cref="MinPanelsForColumnSplit"/> NR-wide column panels (or there is one image): images
    /// are added in order, and each thread takes a range of whole column panels through every image (no barrier per
    /// image or KC slice; splitting each image's GEMM scaled (8,64,56,56) backward by only 1.07x on 2 threads).</item>
    /// <item>fewer panels (a few filters over few channels, e.g. 32 x 3 x 7 x 7: 5 panels, which split 3 : 2): the images
    /// fall into min(N, <see cref="ImageBlocks"/>) fixed blocks; each block's partial dw is computed by one thread, and
    /// the partials are added in block order.</item>
    /// </list>
    /// </summary>
    public static void BackwardFilter(in ConvGeometry g, float* dout, float* x, float* dw, int degree)
    {
        // Groups one after the other, each on every thread: dw's groups are disjoint blocks of rows.
        int fg = g.GroupFilters, images = g.Images, nr = GemmBlocking.For(fg).NR, panels = (g.K + nr - 1) / nr;
        int threads = Partition.Threads(degree, (long)images * g.Pixels * g.K * fg, MinMultiplyAddsPerThread);
        int blocks = Math.Min(images, ImageBlocks);
        long size = (long)fg * g.K;
        bool columnSplit = panels >= MinPanelsForColumnSplit || images == 1;
        float* partials = columnSplit ? null : Scratch.Get(Scratch.Role.Partials, (blocks - 1) * size);
        for (int group = 0; group < g.Groups; group++)
        {
            float* doutG = dout + (long)group * fg * g.Pixels, xG = x + group * g.GroupInput, dwG = dw + group * size;
            if (columnSplit)
            {
                int parts = Math.Min(threads, panels);
                Parallelism.For(parts, parts, new FilterColumns(g, doutG, xG, dwG, 0, images, nr, panels, parts));
                continue;
            }
            Parallelism.For(blocks, threads, new FilterBlocks(g, doutG, xG, dwG, partials, blocks, nr, panels));
            var sum = new Span<float>(dwG, (int)size);
            for (int b = 1; b < blocks; b++) TensorPrimitives.Add(sum, new ReadOnlySpan<float>(partials + (b - 1) * size, (int)size), sum);
        }
    }

    /// <summary>Column panels of dw below which the filter gradient splits images into blocks instead (see BackwardFilter).</summary>
    private const int MinPanelsForColumnSplit = 8;

    /// <summary>Image blocks of the block order: enough for 8 threads, and at most 7 partial copies of dw.</summary>
    private const int ImageBlocks = 8;

    /// <summary>
    /// One group's dw[:, first..end) of the NR-wide column panels of part `part` of `parts`, summed over images [n0, n1);
    /// dout, x and dw point at the group's first filter, channel and row.
    /// </summary>
    private readonly struct FilterColumns(ConvGeometry g, float* dout, float* x, float* dw, int n0, int n1, int nr, int panels, int parts)
        : IIndexAction
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Invoke(int part)
        {
            int pixels = g.Pixels, k = g.K, filters = g.GroupFilters;
            int first = (int)((long)panels * part / parts) * nr, end = Math.Min(k, (int)((long)panels * (part + 1) / parts) * nr);
            for (int n = n0; n < n1; n++)
            {
                float* dn = dout + n * g.OutputImage, xn = x + n * g.InputImage;
                var doutA = new MatrixPackA(dn, pixels, transpose: false);
                float beta = n == n0 ? 0f : 1f;
                if (g.IsPointwise)
                    GemmCore.Run(doutA, new MatrixPackB(xn + (long)first * pixels, pixels, transpose: true), filters, end - first, pixels, 1f, beta, dw + first, k, 1);
                else
                    GemmCore.Run(doutA, new Im2ColTransposedPackB(g, xn, first), filters, end - first, pixels, 1f, beta, dw + first, k, 1);
            }
        }
    }

    /// <summary>Block `block`'s partial dw of one group (block 0 straight into dw, the others into their partial) over
    /// its images.</summary>
    private readonly struct FilterBlocks(ConvGeometry g, float* dout, float* x, float* dw, float* partials, int blocks, int nr, int panels)
        : IIndexAction
    {
        public void Invoke(int block)
        {
            (int n0, int n1) = Partition.Range(g.Images, block, blocks);
            float* target = block == 0 ? dw : partials + (block - 1) * (long)g.GroupFilters * g.K;
            new FilterColumns(g, dout, x, target, n0, n1, nr, panels, 1).Invoke(0);
        }
    }

    private static int RoundUp(int x, int to) => (x + to - 1) / to * to;
}
