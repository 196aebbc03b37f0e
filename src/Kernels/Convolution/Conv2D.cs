using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using Kernels.Convolution;
using Kernels.GemmInternals;
using Kernels.Threading;

namespace Kernels;

/// <summary>
/// Fast 2-D convolution on the packed GEMM (<see cref="Gemm"/>). The forward pass writes im2col of chunks of output
/// pixels straight into the GEMM's packed panels (im2col fused into packing), with the bias as one more reduction
/// column; the input gradient goes through W^T x dout per chunk and col2im; the filter gradient packs its panels
/// straight from the image. Same shapes and semantics as <see cref="Reference.Conv2D"/>: x (N, C, H, W),
/// w (F, C, HH, WW), b (F), y (N, F, Hout, Wout). Scratch per thread (kept for reuse), whatever the batch size:
/// the packed filters ((F + 15) x (K + 1) floats, K = C*HH*WW), one chunk of columns (about
/// max(1 MiB, 2 KiB * K) plus up to 128 * (K + 1) bytes of panel padding), the GEMM's panels when it packs (at most about 4 MiB + 1 KiB * M with
/// AVX-512) and, for padded geometries other than stride-1 "same", a zero-padded copy of one image
/// (C x (H + 2 pad) x (W + 2 pad) floats). Results are bitwise identical for every <c>maxDegreeOfParallelism</c>.
/// </summary>
public static unsafe class Conv2D
{
    /// <summary><c>y[n,f,:,:] = b[f] + W[f] * im2col(x[n])</c>; see <see cref="Reference.Conv2D.Forward{T}"/>.</summary>
    /// <param name="x">Input (N, C, H, W).</param>
    /// <param name="w">Filters (F, C, HH, WW).</param>
    /// <param name="b">Bias (F).</param>
    /// <param name="p">Stride and zero padding.</param>
    /// <param name="y">Output (N, F, Hout, Wout); must not overlap the inputs.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Forward(ReadOnlyNchwSpan<float> x, ReadOnlyNchwSpan<float> w, ReadOnlySpan<float> b, Conv2DParams p, NchwSpan<float> y,
        int maxDegreeOfParallelism = 1)
    {
        Reference.Conv2D.Validate(x, w, b.Length, p, y.Shape, nameof(y));
        Guard.NoOverlap(y.Span, x.Span, nameof(y), nameof(x));
        Guard.NoOverlap(y.Span, w.Span, nameof(y), nameof(w));
        Guard.NoOverlap(y.Span, b, nameof(y), nameof(b));
        int degree = Parallelism.Resolve(maxDegreeOfParallelism);
        var g = new ConvGeometry(x.Shape, w.Shape, p, y.Shape);
        // The filters are packed into GEMM panels once per call; every chunk of every image reuses them (best of 21
        // runs, one thread: (c) 73.6 -> 85.6 GFLOP/s, (d) 85.4 -> 94.9, (e) 78.3 -> 84.0). Except for pointwise
        // convolutions, the bias rides along as one more reduction column [W | b] against a row of ones under the
        // im2col rows, so y is written once by the GEMM instead of being filled with b and read back.
        int reduction = g.IsPointwise ? g.K : g.K + 1;
        // Every scratch buffer of the call is checked first, so a call too big for them fails the same way at every
        // degree of parallelism, before anything is packed or written.
        g.EnsureForwardScratchFits(w.Shape.N);
        float* packedW = Scratch.Get(Scratch.Role.Weights, PrePacked.Length(w.Shape.N, reduction));
        fixed (float* px = x.Span, pw = w.Span, pb = b, py = y.Span)
        {
            if (g.IsPointwise) PrePacked.Pack(new MatrixPackA(pw, g.K, transpose: false), w.Shape.N, g.K, packedW);
            else PrePacked.Pack(new FiltersAndBiasPackA(pw, pb, g.K), w.Shape.N, reduction, packedW);
            var items = new ForwardItems(g, px, packedW, pb, py, w.Shape.N, x.Shape.N);
            int threads = Partition.Threads(degree, (long)x.Shape.N * g.Pixels * reduction * w.Shape.N, MinMultiplyAddsPerThread);
            if (items.Count >= threads)
            {
                ForkJoin.Run(threads, ref items);
            }
            else
            {
                // Fewer (image, chunk) items than threads: they run in turn, each GEMM on every thread.
                var all = new Team(0, 1, null);
                items.Run(all, threads);
            }
        }
    }

    /// <summary>
    /// Below about this many multiply-adds per thread a convolution uses fewer threads (a fork-join costs a few
    /// microseconds, about 2^20 multiply-adds at 100+ GFLOP/s).
    /// </summary>
    private const long MinMultiplyAddsPerThread = 1 << 20;

    /// <summary>
    /// Gradients given dout (N, F, Hout, Wout): dx (N, C, H, W), dw (F, C, HH, WW), db (F), all overwritten.
    /// db and dw are reduced over the batch in image order, so they too are identical for every thread count.
    /// </summary>
    /// <param name="dout">Upstream gradient (N, F, Hout, Wout).</param>
    /// <param name="x">The forward input (N, C, H, W).</param>
    /// <param name="w">The filters (F, C, HH, WW).</param>
    /// <param name="p">Stride and zero padding of the forward pass.</param>
    /// <param name="dx">Gradient of x; must not overlap anything else.</param>
    /// <param name="dw">Gradient of w; must not overlap anything else.</param>
    /// <param name="db">Gradient of b (F); must not overlap anything else.</param>
    /// <param name="maxDegreeOfParallelism">1 (default): the calling thread only; -1: every core; n: at most n threads.</param>
    public static void Backward(ReadOnlyNchwSpan<float> dout, ReadOnlyNchwSpan<float> x, ReadOnlyNchwSpan<float> w, Conv2DParams p,
        NchwSpan<float> dx, NchwSpan<float> dw, Span<float> db, int maxDegreeOfParallelism = 1)
    {
        Reference.Conv2D.Validate(x, w, db.Length, p, dout.Shape, nameof(dout));
        Guard.Shape(dx.Shape, x.Shape, nameof(dx), $"x");
        Guard.Shape(dw.Shape, w.Shape, nameof(dw), $"w");
        Reference.Conv2D.GuardOutputs(dout.Span, x.Span, w.Span, dx.Span, dw.Span, db);
        int degree = Parallelism.Resolve(maxDegreeOfParallelism);
        var g = new ConvGeometry(x.Shape, w.Shape, p, dout.Shape);
        int n = x.Shape.N, f = w.Shape.N;
        g.EnsureBackwardScratchFits(f); // before db is written


        // W^T (K x F) is packed into GEMM panels once per call, as the forward packs W.
        float* packedWT = Scratch.Get(Scratch.Role.Weights, PrePacked.Length(g.K, f));
        fixed (float* pdout = dout.Span, px = x.Span, pw = w.Span, pdx = dx.Span, pdw = dw.Span, pdb = db)
        {
            // db[f] = sum over images (in order) of the sum of dout's plane f; filters split between threads.
            Parallelism.For(f, Partition.Threads(degree, (long)n * g.Pixels * f, MinElementsPerThread), new BiasGradient(pdout, pdb, n, f, g.Pixels));

            PrePacked.Pack(new MatrixPackA(pw, g.K, transpose: true), g.K, f, packedWT);
            // dx: independent per image.
            // dx: images in parallel; with fewer images than threads, each image's GEMM and col2im use every thread.
            int threads = Partition.Threads(degree, (long)n * g.Pixels * g.K * f, MinMultiplyAddsPerThread);
            var dxJob = new BackwardDataImage(g, pdout, packedWT, pdx, f, n >= threads ? 1 : threads);
            Parallelism.For(n, n >= threads ? threads : 1, dxJob);

            // dw = sum_n dout[n] * im2col(x[n])^T, accumulated image after image, chunk after chunk.
            BackwardFilter(g, pdout, px, pdw, n, f, degree);
        }
    }

    /// <summary>
    /// The forward pass as (image, chunk of output pixels) items, image-major: each member of the team takes one
    /// contiguous range of items, so with N = 50 images two threads take 25 images each, and with fewer images than
    /// threads they share an image by chunks. Every item writes its own columns of y, computed exactly as on one
    /// thread. A member zero-pads each image it reaches (in its own scratch) once.
    /// </summary>
    private readonly struct ForwardItems(ConvGeometry g, float* x, float* packedW, float* b, float* y, int filters, int images) : ITeamBody
    {
        private int Chunks => g.IsPointwise ? 1 : (g.Pixels + g.ChunkPixels - 1) / g.ChunkPixels;

        public int Count => images * Chunks;

        public void Invoke(in Team team) => Run(team, 1);

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(in Team team, int gemmDegree)
        {
            (int first, int end) = Partition.Range(Count, team.Index, team.Size);
            int chunks = Chunks, pixels = g.Pixels, padded = -1;
            float* copy = Scratch.Get(Scratch.Role.PaddedImage, g.ReadsPaddedCopy ? g.PaddedLength : 0);
            for (int item = first; item < end; item++)
            {
                int image = item / chunks, chunk = item % chunks;
                float* xn = x + (long)image * g.C * g.H * g.W, yn = y + (long)image * filters * pixels;
                if (g.IsPointwise)
                {
                    // y[n] starts as the bias; the GEMM adds W * x[n] to it (beta = 1).
                    for (int f = 0; f < filters; f++) new Span<float>(yn + (long)f * pixels, pixels).Fill(b[f]);
                    GemmCore.Run(new PrePackedA(packedW, g.K), new MatrixPackB(xn, pixels, transpose: false), filters, pixels, g.K, 1f, 1f, yn, pixels, gemmDegree);
                    continue;
                }
                if (g.ReadsPaddedCopy && padded != image)
                {
                    g.PadImage(xn, copy);
                    padded = image;
                }
                new ForwardChunk(g, g.ReadsPaddedCopy ? copy : xn, packedW, yn, filters).Run(chunk, gemmDegree);
            }
        }
    }

    /// <summary>
    /// One chunk of output pixels of one image: im2col written straight into the GEMM's NR-wide B panels, which the
    /// microkernel then reads in place (one pass from the image instead of im2col + packing); row k of the panels is
    /// all ones, the partner of the bias column of the packed filters. image is x[n], or its zero-padded copy when
    /// the geometry reads one.
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

    private readonly struct BackwardDataImage(ConvGeometry g, float* dout, float* packedWT, float* dx, int filters, int gemmDegree) : IIndexAction
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Invoke(int image)
        {
            int pixels = g.Pixels, k = g.K, chunk = g.ChunkPixels;
            float* dn = dout + (long)image * filters * pixels, dxn = dx + (long)image * g.C * g.H * g.W;
            var filtersT = new PrePackedA(packedWT, filters);
            if (g.IsPointwise)
            {
                // dx[n] (C x HW) = W^T (C x F) * dout[n] (F x HW), written directly.
                GemmCore.Run(filtersT, new MatrixPackB(dn, pixels, transpose: false), k, pixels, filters, 1f, 0f, dxn, pixels, gemmDegree);
                return;
            }
            new Span<float>(dxn, g.C * g.H * g.W).Clear();
            {
                float* pc = Scratch.Get(Scratch.Role.Columns, (long)k * chunk);
                for (int p0 = 0; p0 < pixels; p0 += chunk)
                {
                    int count = Math.Min(chunk, pixels - p0);
                    GemmCore.Run(filtersT, new MatrixPackB(dn + p0, pixels, transpose: false), k, count, filters, 1f, 0f, pc, count, gemmDegree);
                    if (gemmDegree > 1) Parallelism.For(g.C, gemmDegree, new Col2ImChannels(g, pc, p0, count, dxn));
                    else g.Col2ImAdd(pc, p0, count, dxn);
                }
            }
        }
    }

    /// <summary>Below this many elements per thread a memory-bound pass (db's sums) stays on fewer threads.</summary>
    private const long MinElementsPerThread = 1 << 16;

    private readonly struct BiasGradient(float* dout, float* db, int images, int filters, int pixels) : IIndexAction
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
    private static void BackwardFilter(ConvGeometry g, float* dout, float* x, float* dw, int images, int filters, int degree)
    {
        int nr = GemmBlocking.For(filters).NR, panels = (g.K + nr - 1) / nr;
        int threads = Partition.Threads(degree, (long)images * g.Pixels * g.K * filters, MinMultiplyAddsPerThread);
        if (panels >= MinPanelsForColumnSplit || images == 1)
        {
            int groups = Math.Min(threads, panels);
            Parallelism.For(groups, groups, new FilterColumns(g, dout, x, dw, 0, images, filters, nr, panels, groups));
            return;
        }
        int blocks = Math.Min(images, ImageBlocks);
        long size = (long)filters * g.K;
        float* partials = Scratch.Get(Scratch.Role.Partials, (blocks - 1) * size);
        Parallelism.For(blocks, threads, new FilterBlocks(g, dout, x, dw, partials, images, blocks, filters, nr, panels));
        var sum = new Span<float>(dw, (int)size);
        for (int b = 1; b < blocks; b++) TensorPrimitives.Add(sum, new ReadOnlySpan<float>(partials + (b - 1) * size, (int)size), sum);
    }

    /// <summary>Column panels of dw below which the filter gradient splits images into blocks instead (see BackwardFilter).</summary>
    private const int MinPanelsForColumnSplit = 8;

    /// <summary>Image blocks of the block order: enough for 8 threads, and at most 7 partial copies of dw.</summary>
    private const int ImageBlocks = 8;

    /// <summary>dw[:, first..end) of the NR-wide column panels of group `group` of `groups`, summed over images [n0, n1).</summary>
    private readonly struct FilterColumns(ConvGeometry g, float* dout, float* x, float* dw, int n0, int n1, int filters, int nr, int panels, int groups)
        : IIndexAction
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Invoke(int group)
        {
            int pixels = g.Pixels, k = g.K;
            int first = (int)((long)panels * group / groups) * nr, end = Math.Min(k, (int)((long)panels * (group + 1) / groups) * nr);
            for (int n = n0; n < n1; n++)
            {
                float* dn = dout + (long)n * filters * pixels, xn = x + (long)n * g.C * g.H * g.W;
                var doutA = new MatrixPackA(dn, pixels, transpose: false);
                float beta = n == n0 ? 0f : 1f;
                if (g.IsPointwise)
                    GemmCore.Run(doutA, new MatrixPackB(xn + (long)first * pixels, pixels, transpose: true), filters, end - first, pixels, 1f, beta, dw + first, k, 1);
                else
                    GemmCore.Run(doutA, new Im2ColTransposedPackB(g, xn, first), filters, end - first, pixels, 1f, beta, dw + first, k, 1);
            }
        }
    }

    /// <summary>Block `block`'s partial dw (block 0 straight into dw, the others into their partial) over its images.</summary>
    private readonly struct FilterBlocks(ConvGeometry g, float* dout, float* x, float* dw, float* partials, int images, int blocks, int filters, int nr, int panels)
        : IIndexAction
    {
        public void Invoke(int block)
        {
            (int n0, int n1) = Partition.Range(images, block, blocks);
            float* target = block == 0 ? dw : partials + (block - 1) * (long)filters * g.K;
            new FilterColumns(g, dout, x, target, n0, n1, filters, nr, panels, 1).Invoke(0);
        }
    }

    private static int RoundUp(int x, int to) => (x + to - 1) / to * to;
}
