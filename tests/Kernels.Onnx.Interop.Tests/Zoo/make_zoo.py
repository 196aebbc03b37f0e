#!/usr/bin/python3
"""Exports torchvision 0.14's classifiers to ONNX, with torch's outputs for a fixed input, into a cache folder.

Run with Debian's python and torchvision (apt-get install python3-torchvision; torch 1.13):
    /usr/bin/python3 make_zoo.py CACHE_DIR [NAME ...]
No weights can be downloaded here, so each network has random weights from a fixed seed, and its batch-norm
statistics are randomized too (fresh ones are mean 0, var 1, which would hide a wrong normalization). Each model
NAME at opset OPSET gives NAME.opOPSET.onnx (batch dimension symbolic, 'N'), and NAME.in.bin / NAME.out.bin
(float32, little-endian, batch 3, 3x224x224 in [0, 1) normalized as torchvision expects), and a line in zoo.txt:
name, opset, output classes. A model already in the folder is not exported again, so a rerun only fills gaps.
"""
import os
import struct
import sys

import torch
import torchvision

# The 15 classifiers of the issue; the second list is exported at opsets 11 and 17 as well.
MODELS = ["alexnet", "convnext_tiny", "densenet121", "efficientnet_b0", "googlenet", "mnasnet1_0", "mobilenet_v2",
          "mobilenet_v3_small", "regnet_y_400mf", "resnet18", "resnet50", "resnext50_32x4d", "shufflenet_v2_x1_0",
          "squeezenet1_1", "vgg11"]
MORE_OPSETS = {"mobilenet_v2": [11, 17], "efficientnet_b0": [11, 17], "convnext_tiny": [11, 17]}
BATCH = 3


def build(name):
    torch.manual_seed(2026)
    kwargs = {"weights": None}
    if name == "googlenet":
        kwargs.update(aux_logits=False, init_weights=True)
    model = getattr(torchvision.models, name)(**kwargs)
    generator = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                c = m.num_features
                m.running_mean.copy_((torch.rand(c, generator=generator) - 0.5) * 0.2)
                m.running_var.copy_(torch.rand(c, generator=generator) + 0.5)
                m.weight.copy_(torch.rand(c, generator=generator) + 0.5)
                m.bias.copy_((torch.rand(c, generator=generator) - 0.5) * 0.2)
    return model.eval()


def write_floats(path, tensor):
    values = tensor.detach().contiguous().view(-1).tolist()
    with open(path, "wb") as f:
        f.write(struct.pack("<%df" % len(values), *values))


def main():
    cache = sys.argv[1]
    names = sys.argv[2:] or MODELS
    os.makedirs(cache, exist_ok=True)
    lines = {}
    index = os.path.join(cache, "zoo.txt")
    if os.path.exists(index):
        for line in open(index):
            parts = line.split()
            if parts:
                lines[(parts[0], int(parts[1]))] = line.strip()
    generator = torch.Generator().manual_seed(11)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    x = (torch.rand(BATCH, 3, 224, 224, generator=generator) - mean) / std
    for name in names:
        model = None
        for opset in [13] + MORE_OPSETS.get(name, []):
            path = os.path.join(cache, "%s.op%d.onnx" % (name, opset))
            if os.path.exists(path) and (name, opset) in lines:
                continue
            model = model or build(name)
            with torch.no_grad():
                y = model(x)
            write_floats(os.path.join(cache, name + ".in.bin"), x)
            write_floats(os.path.join(cache, name + ".out.bin"), y)
            torch.onnx.export(model, x[:1], path + ".tmp", opset_version=opset, input_names=["x"], output_names=["y"],
                              dynamic_axes={"x": {0: "N"}, "y": {0: "N"}}, do_constant_folding=True)
            os.replace(path + ".tmp", path)
            lines[(name, opset)] = "%s %d %d" % (name, opset, y.shape[1])
            print("exported", name, "opset", opset, flush=True)
    with open(index, "w") as f:
        for key in sorted(lines):
            f.write(lines[key] + "\n")


if __name__ == "__main__":
    main()
