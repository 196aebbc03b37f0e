#!/usr/bin/python3
"""Exports the ONNX fixtures of Kernels.Onnx.Tests with PyTorch, and torch's own outputs for fixed inputs.

Run from this folder with Debian's python and torch (apt-get install python3-torch; torch 1.13):
    /usr/bin/python3 make_fixtures.py
Each model NAME gives NAME.onnx (batch dimension symbolic, 'N'), NAME.in.bin and NAME.out.bin (float32,
little-endian, batch 3) and a line in fixtures.txt: name, opset, input dims, output dims. Seeds are fixed, so a
rerun with the same torch writes the same numbers.
"""
import struct
import torch
import torch.nn as nn

torch.manual_seed(1234)
BATCH = 3


class LeNet5(nn.Module):
    """LeNet-5 on 1x28x28 digits: two conv-relu-maxpool stages, three Linear layers."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


def conv_bn_relu_pool(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2)]


class ConvBn(nn.Module):
    """conv-bn-relu-pool x2, then a BatchNorm after a ReLU (no Conv to fold into) and two Linear layers."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(*conv_bn_relu_pool(3, 8), *conv_bn_relu_pool(8, 16), nn.BatchNorm2d(16))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(16 * 8 * 8, 32), nn.ReLU(), nn.Linear(32, 10))

    def forward(self, x):
        return self.head(self.body(x))


class VggBlock(nn.Module):
    """A VGG-style block: 3x3 convolutions with padding 1, ReLU, 2x2 max pool; then a classifier with Dropout and Softmax."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2))
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(32 * 8 * 8, 10), nn.Softmax(dim=1))

    def forward(self, x):
        return self.head(self.body(x))


class Pools(nn.Module):
    """Average pooling with padding (count_include_pad both ways), ceil-mode max pooling, a channel Concat and global average pooling."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.avg_in = nn.AvgPool2d(3, stride=2, padding=1)
        self.avg_ex = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.max_ceil = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        x = torch.relu(self.conv(x))                         # 8 x 15 x 15
        x = torch.cat([self.avg_in(x), self.avg_ex(x)], 1)   # 16 x 8 x 8
        x = self.max_ceil(x)                                 # 16 x 4 x 4 (3 without ceil_mode)
        return self.fc(torch.flatten(self.gap(x), 1))


class Stem(nn.Module):
    """A ResNet-style stem: 7x7 stride-2 convolution with padding 3, 3x3 stride-2 max pool with padding 1, a
    stride-2 3x3 convolution, global average pooling and a Linear layer, on an odd-sized image."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 16, 7, stride=2, padding=3), nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1),
            nn.Conv2d(16, 24, 3, stride=2, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(24, 7))

    def forward(self, x):
        return self.body(x)


MODELS = [
    ("lenet5", LeNet5(), (1, 28, 28), 11),
    ("convbn", ConvBn(), (3, 32, 32), 13),
    ("vggblock", VggBlock(), (3, 32, 32), 17),
    ("pools", Pools(), (3, 17, 17), 11),
    ("stem", Stem(), (3, 45, 45), 17),
]


def randomize_batchnorm(model):
    """Running statistics and affine parameters away from the identity, so that folding them is tested."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)


def write_floats(path, tensor):
    values = tensor.detach().contiguous().view(-1).tolist()
    with open(path, "wb") as f:
        f.write(struct.pack("<%df" % len(values), *values))


def main():
    lines = []
    for name, model, shape, opset in MODELS:
        randomize_batchnorm(model)
        model.eval()
        x = torch.randn(BATCH, *shape)
        with torch.no_grad():
            y = model(x)
        torch.onnx.export(model, x, name + ".onnx", opset_version=opset, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "N"}, "y": {0: "N"}}, do_constant_folding=True)
        write_floats(name + ".in.bin", x)
        write_floats(name + ".out.bin", y)
        lines.append("%s %d %s %s" % (name, opset, ",".join(map(str, x.shape)), ",".join(map(str, y.shape))))
    with open("fixtures.txt", "w") as f:
        f.write("# name opset input-dims output-dims (written by make_fixtures.py with torch %s)\n" % torch.__version__)
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
