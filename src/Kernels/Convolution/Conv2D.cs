using System.Numerics.Tensors;
using Kernels.Convolution;
using Kernels.GemmInternals;

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
            var job = new ForwardImage(g, px, packedW, pb, py, w.Shape.N, x.Shape.N >= degree ? 1 : degree);
            Parallelism.For(x.Shape.N, x.Shape.N >= degree ? degree : 1, job);
        }
    }

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

        // db[f] = sum over images (in order) of the sum of dout's plane f.
        db.Clear();
        for (int i = 0; i < n; i++)
            for (int k = 0; k < f; k++)
                db[k] += TensorPrimitives.Sum(dout.Plane(i, k));

        // W^T (K x F) is packed into GEMM panels once per call, as the forward packs W.
        float* packedWT = Scratch.Get(Scratch.Role.Weights, PrePacked.Length(g.K, f));
        fixed (float* pdout = dout.Span, px = x.Span, pw = w.Span, pdx = dx.Span, pdw = dw.Span)
        {
            PrePacked.Pack(new MatrixPackA(pw, g.K, transpose: true), g.K, f, packedWT);
            // dx: independent per image.
            var dxJob = new BackwardDataImage(g, pdout, packedWT, pdx, f, n >= degree ? 1 : degree);
            Parallelism.For(n, n >= degree ? degree : 1, dxJob);

            // dw = sum_n dout[n] * im2col(x[n])^T, accumulated image after image, chunk after chunk.
            BackwardFilter(g, pdout, px, pdw, n, f, degree);
        }
    }

    private readonly struct ForwardImage(ConvGeometry g, float* x, float* packedW, float* b, float* y, int filters, int gemmDegree) : IIndexAction
    {
        public void Invoke(int image)
        {
            int pixels = g.Pixels, k = g.K, chunk = g.ChunkPixels;
            float* xn = x + (long)image * g.C * g.H * g.W, yn = y + (long)image * filters * pixels;
            if (g.IsPointwise)
            {
                // y[n] starts as the bias; the GEMM adds W * x[n] to it (beta = 1).
                for (int f = 0; f < filters; f++) new Span<float>(yn + (long)f * pixels, pixels).Fill(b[f]);
                GemmCore.Run(new PrePackedA(packedW, k), new MatrixPackB(xn, pixels, transpose: false), filters, pixels, k, 1f, 1f, yn, pixels, gemmDegree);
                return;
            }
            {
                float* padded = Scratch.Get(Scratch.Role.PaddedImage, g.ReadsPaddedCopy ? g.PaddedLength : 0);
                if (g.ReadsPaddedCopy) g.PadImage(xn, padded);
                var chunks = new ForwardChunk(g, g.ReadsPaddedCopy ? padded : xn, packedW, yn, filters);
                // Fewer images than threads: the threads share an image by chunks of pixels (independent columns of
                // y, each computed as on one thread); an image of one chunk falls back to threads inside its GEMM.
                if (gemmDegree > 1 && chunks.Count > 1) Parallelism.For(chunks.Count, gemmDegree, chunks);
                else for (int i = 0; i < chunks.Count; i++) chunks.Run(i, gemmDegree);
            }
        }
    }

    /// <summary>
    /// One chunk of output pixels of one image: im2col written straight into the GEMM's NR-wide B panels, which the
    /// microkernel then reads in place (one pass from the image instead of im2col + packing); row k of the panels is
    /// all ones, the partner of the bias column of the packed filters. image is x[n], or its zero-padded copy when
    /// the geometry reads one.
    /// </summary>
    private readonly struct ForwardChunk(ConvGeometry g, float* image, float* packedW, float* yn, int filters) : IIndexAction
    {
        public int Count => (g.Pixels + g.ChunkPixels - 1) / g.ChunkPixels;

        public void Invoke(int index) => Run(index, 1);

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
                    g.Col2ImAdd(pc, p0, count, dxn);
                }
            }
        }
    }

    /// <summary>
    /// dw = sum over images, in order, of dout[n] (F x pixels) * im2col(x[n])^T (pixels x K). With several threads,
    /// each takes a range of whole NR-wide column panels of dw through every image: no barrier per image or per KC
    /// slice (splitting each image's GEMM scaled (8,64,56,56) backward by 1.07x on 2 threads), and every tile is
    /// computed exactly as on one thread.
    /// </summary>
    private static void BackwardFilter(ConvGeometry g, float* dout, float* x, float* dw, int images, int filters, int degree)
    {
        int nr = GemmBlocking.For(filters).NR, panels = (g.K + nr - 1) / nr, groups = Math.Min(degree, panels);
        Parallelism.For(groups, groups, new FilterColumns(g, dout, x, dw, images, filters, nr, panels, groups));
    }

    private readonly struct FilterColumns(ConvGeometry g, float* dout, float* x, float* dw, int images, int filters, int nr, int panels, int groups) : IIndexAction
    {
        public void Invoke(int group)
        {
            int pixels = g.Pixels, k = g.K;
            int first = (int)((long)panels * group / groups) * nr, end = Math.Min(k, (int)((long)panels * (group + 1) / groups) * nr);
            for (int n = 0; n < images; n++)
            {
                float* dn = dout + (long)n * filters * pixels, xn = x + (long)n * g.C * g.H * g.W;
                var doutA = new MatrixPackA(dn, pixels, transpose: false);
                float beta = n == 0 ? 0f : 1f;
                if (g.IsPointwise)
                    GemmCore.Run(doutA, new MatrixPackB(xn + (long)first * pixels, pixels, transpose: true), filters, end - first, pixels, 1f, beta, dw + first, k, 1);
                else
                    GemmCore.Run(doutA, new Im2ColTransposedPackB(g, xn, first), filters, end - first, pixels, 1f, beta, dw + first, k, 1);
            }
        }
    }

    private static int RoundUp(int x, int to) => (x + to - 1) / to * to;
}
