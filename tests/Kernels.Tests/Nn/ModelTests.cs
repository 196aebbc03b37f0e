using Kernels.Data;
using Kernels.Demo;
using Kernels.Diagnostics;
using Kernels.Nn;

namespace Kernels.Tests.Nn;

public class ModelTests
{
    private static NchwTensor<T> Images<T>(int seed, Shape4 shape) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var t = NchwTensor<T>.Create(shape);
        double[] v = TestData.Doubles(seed, shape.Length);
        for (int i = 0; i < v.Length; i++) t.Span[i] = T.CreateChecked(v[i]);
        return t;
    }

    [Theory]
    [InlineData(2, 5, 5, 3, 1)]   // odd image size: the pooled size is 2x2, not 5*5/4
    [InlineData(3, 6, 4, 5, 2)]   // rectangular input
    public void Whole_model_gradients_match_numerical_gradients_in_double(int channels, int h, int w, int filterSize, int seed)
    {
        var options = new ConvNetOptions(channels, h, w, Filters: 3, FilterSize: filterSize, Hidden: 7, Classes: 4, WeightScale: 0.5, Reg: 0.1, Seed: seed);
        var model = new ThreeLayerConvNet<double>(ReferenceKernels<double>.Instance, options);
        NchwTensor<double> x = Images<double>(seed, new Shape4(2, channels, h, w));
        int[] y = [1, 3];
        model.Loss(x, y);
        var analytic = model.Parameters.ToDictionary(p => p.Name, p => (double[])p.Grad.Clone());
        foreach (Parameter<double> p in model.Parameters)
        {
            var numeric = new double[p.Value.Length];
            GradientCheck.NumericalGradient(() => model.Loss(x, y), p.Value, numeric);
            double err = GradientCheck.RelativeError(analytic[p.Name], numeric);
            Assert.True(err < 1e-6, $"{p.Name}: relative error {err:E3}");
        }
        Assert.Equal(["W1", "b1", "W2", "b2", "W3", "b3"], model.Parameters.Select(p => p.Name));
    }

    [Fact]
    public void Fast_float_model_agrees_with_the_double_reference_model()
    {
        var options = new ConvNetOptions(3, 9, 9, Filters: 8, FilterSize: 3, Hidden: 20, Classes: 5, WeightScale: 0.1, Reg: 0.01, Seed: 3);
        var fast = new ThreeLayerConvNet<float>(new FastKernels(2), options);
        var exact = new ThreeLayerConvNet<double>(ReferenceKernels<double>.Instance, options);
        for (int i = 0; i < fast.Parameters.Count; i++)
            for (int j = 0; j < fast.Parameters[i].Value.Length; j++) exact.Parameters[i].Value[j] = fast.Parameters[i].Value[j];
        int[] y = [0, 4, 2];
        float lf = fast.Loss(Images<float>(5, new Shape4(3, 3, 9, 9)), y);
        double ld = exact.Loss(Images<double>(5, new Shape4(3, 3, 9, 9)), y);
        Assert.True(Math.Abs(lf - ld) < 1e-5 * (1 + Math.Abs(ld)), $"loss {lf} vs {ld}");
        for (int i = 0; i < fast.Parameters.Count; i++)
        {
            double err = GradientCheck.RelativeError(FloatAssert.ToDouble(fast.Parameters[i].Grad), exact.Parameters[i].Grad);
            // float gradients through four layers: a few hundred roundings of u = 6e-8 each, far below 1e-4.
            Assert.True(err < 1e-4, $"{fast.Parameters[i].Name}: relative error {err:E3}");
        }
    }

    [Fact]
    public void Initial_loss_without_regularisation_is_near_log_of_the_class_count()
    {
        var model = new ThreeLayerConvNet<float>(new FastKernels(), new ConvNetOptions(3, 16, 16, Filters: 8, FilterSize: 3, Hidden: 30, Classes: 10, WeightScale: 1e-3));
        float loss = model.Loss(Images<float>(1, new Shape4(20, 3, 16, 16)), TestData.Labels(2, 20, 10));
        Assert.InRange(loss, Math.Log(10) - 0.01, Math.Log(10) + 0.01);
        model.Reg = 10;
        Assert.True(model.Loss(Images<float>(1, new Shape4(20, 3, 16, 16)), TestData.Labels(2, 20, 10)) > loss, "regularisation adds to the loss");
    }

    [Fact]
    public void Overfits_one_hundred_real_digits()
    {
        LabeledImages digits = DemoData.Load(new DemoOptions()).Train.Slice(0, 100);
        var model = new ThreeLayerConvNet<float>(new FastKernels(), new ConvNetOptions(1, 28, 28, Filters: 8, FilterSize: 3, Hidden: 50, WeightScale: null, Seed: 4));
        var solver = new Solver<float>(model, digits, digits, new Adam<float>(2e-3), new SolverOptions(Epochs: 15, BatchSize: 25, Seed: 4));
        solver.Train();
        Assert.True(solver.Accuracy(digits) >= 0.95, $"training accuracy {solver.Accuracy(digits):P1} after 15 epochs");
    }

    [Fact]
    public void Scratch_buffers_are_reused_so_steady_state_steps_do_not_allocate()
    {
        var model = new ThreeLayerConvNet<float>(new FastKernels(), new ConvNetOptions(1, 12, 12, Filters: 4, FilterSize: 3, Hidden: 10));
        NchwTensor<float> x = Images<float>(1, new Shape4(8, 1, 12, 12));
        int[] y = TestData.Labels(1, 8, 10);
        var rule = new Adam<float>();
        for (int i = 0; i < 3; i++) { model.Loss(x, y); rule.Step(model.Parameters); }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) { model.Loss(x, y); rule.Step(model.Parameters); }
        long perStep = (GC.GetAllocatedBytesForCurrentThread() - before) / 10;
        Assert.True(perStep == 0, $"{perStep} bytes allocated per training step");
    }
}
