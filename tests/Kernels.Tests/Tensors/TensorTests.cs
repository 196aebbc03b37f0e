using System.Numerics.Tensors;
using FsCheck.Xunit;

namespace Kernels.Tests.Tensors;

public class TensorTests
{
    [Property]
    public void OutputSize_counts_the_filter_positions_that_fit(byte input, byte filter, byte stride, byte pad)
    {
        // Independent oracle: count window origins o = 0, s, 2s, ... with o + filter <= input + 2*pad.
        int i = input % 20 + 1, f = filter % 6 + 1, s = stride % 4 + 1, p = pad % 3;
        int positions = 0;
        for (int origin = 0; origin + f <= i + 2 * p; origin += s) positions++;
        if (positions == 0)
            Assert.Throws<ArgumentException>(() => Geometry.OutputSize(i, f, s, p));
        else
            Assert.Equal(positions, Geometry.OutputSize(i, f, s, p));
    }

    [Fact]
    public void Offset_is_row_major_nchw()
    {
        var s = new Shape4(2, 3, 4, 5);
        Assert.Equal(120, s.Length);
        Assert.Equal(((1 * 3 + 2) * 4 + 3) * 5 + 4, s.Offset(1, 2, 3, 4));
        Assert.Equal(119, s.Offset(1, 2, 3, 4));
    }

    [Fact]
    public void TensorSpan_interop_shares_memory_both_ways()
    {
        var data = new float[2 * 3 * 4 * 5];
        var view = new NchwSpan<float>(data, 2, 3, 4, 5);
        TensorSpan<float> ts = view.AsTensorSpan();
        Assert.Equal([2, 3, 4, 5], ts.Lengths.ToArray());
        ts[[1, 2, 3, 4]] = 42f;
        Assert.Equal(42f, data[119]);

        NchwSpan<float> back = NchwSpan<float>.FromTensorSpan(ts);
        back[0, 1, 2, 3] = 7f;
        Assert.Equal(7f, data[new Shape4(2, 3, 4, 5).Offset(0, 1, 2, 3)]);
        Assert.Equal(new Shape4(2, 3, 4, 5), back.Shape);
    }

    [Fact]
    public void Owning_tensor_and_Tensor_of_T_share_the_array()
    {
        using var t = NchwTensor<float>.Create(new Shape4(1, 2, 2, 2));
        Tensor<float> tensor = t.ToTensor();
        t[0, 1, 1, 1] = 3f;
        Assert.Equal(3f, tensor[[0, 1, 1, 1]]);
        var copy = NchwTensor<float>.FromTensorSpan(tensor.AsReadOnlyTensorSpan());
        Assert.Equal(3f, copy[0, 1, 1, 1]);
    }

    [Fact]
    public void Rented_tensor_is_zeroed_and_unusable_after_dispose()
    {
        var t = NchwTensor<double>.Rent(new Shape4(1, 1, 3, 3));
        Assert.All(t.Span.ToArray(), v => Assert.Equal(0.0, v));
        Assert.Equal(9, t.Span.Length);
        t.Dispose();
        Assert.Throws<ObjectDisposedException>(() => t.Span.Length);
    }

    [Fact]
    public void Views_reject_tensor_spans_of_the_wrong_rank()
    {
        var data = new float[12];
        var ex = Assert.Throws<ArgumentException>(() => NchwSpan<float>.FromTensorSpan(new TensorSpan<float>(data, [3, 4])));
        Assert.Contains("rank 2", ex.Message);
        Assert.Contains("rank 4", ex.Message);
    }

    [Fact]
    public void Matrix_view_reads_the_image_as_a_row()
    {
        var data = Enumerable.Range(0, 24).Select(i => (double)i).ToArray();
        var m = new ReadOnlyNchwSpan<double>(data, 2, 3, 2, 2).AsMatrix();
        Assert.Equal(2, m.Height);
        Assert.Equal(12, m.Width);
        Assert.Equal(13.0, m[1, 1]);
    }
}
