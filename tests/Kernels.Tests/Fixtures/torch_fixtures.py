# Writes torch_fixtures.json: PyTorch's own float64 results for the activations (forward and gradient) and for
# BatchNorm2d training (output, running statistics, gradients), on float32-representable inputs.
# ActivationTorchTests / BatchNormTorchTests compare the fast float kernels and the double oracles with them.
# Run with Debian's python3-torch 1.13: /usr/bin/python3 torch_fixtures.py
import json
import torch
import torch.nn.functional as F

torch.manual_seed(20261202)
f32 = lambda t: t.to(torch.float32).to(torch.float64)  # values a float can hold exactly

x = f32(torch.cat([torch.linspace(-12, 12, 241), torch.tensor([-100.0, -40.0, -9.5, -3.0, -1.5, -1e-3, 1e-6, 3.0, 40.0, 100.0])]))
dout = f32(torch.empty_like(x).uniform_(-2, 2))
acts = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "hardsigmoid": F.hardsigmoid,
    "hardswish": F.hardswish,
    "silu": F.silu,
    "gelu": lambda v: F.gelu(v),
    "gelu tanh": lambda v: F.gelu(v, approximate="tanh"),
    "leaky relu 0.01": lambda v: F.leaky_relu(v, float(torch.tensor(0.01, dtype=torch.float32))),
    "elu 1": lambda v: F.elu(v, 1.0),
    "elu 0.7": lambda v: F.elu(v, float(torch.tensor(0.7, dtype=torch.float32))),
    "relu6": F.relu6,
    "clip -1.5 2": lambda v: F.hardtanh(v, -1.5, 2.0),
}
out = {"x": x.tolist(), "dout": dout.tolist(), "activations": {}}
for name, fn in acts.items():
    v = x.clone().requires_grad_(True)
    y = fn(v)
    (g,) = torch.autograd.grad(y, v, dout)
    out["activations"][name] = {"y": y.detach().tolist(), "dx": g.tolist()}

n, c, h, w = 3, 4, 5, 6
bx = f32(torch.randn(n, c, h, w) * 3 + 2)
gamma, beta = f32(torch.rand(c) + 0.5), f32(torch.randn(c))
rm, rv = f32(torch.randn(c)), f32(torch.rand(c) + 0.5)
bdout = f32(torch.randn(n, c, h, w))
vx, vg, vb = bx.clone().requires_grad_(True), gamma.clone().requires_grad_(True), beta.clone().requires_grad_(True)
rm2, rv2 = rm.clone(), rv.clone()
y = F.batch_norm(vx, rm2, rv2, vg, vb, training=True, momentum=0.1, eps=1e-5)
dx, dg, db = torch.autograd.grad(y, (vx, vg, vb), bdout)
out["batchnorm"] = {
    "shape": [n, c, h, w], "x": bx.flatten().tolist(), "gamma": gamma.tolist(), "beta": beta.tolist(),
    "running_mean": rm.tolist(), "running_var": rv.tolist(), "dout": bdout.flatten().tolist(),
    "y": y.detach().flatten().tolist(), "new_running_mean": rm2.tolist(), "new_running_var": rv2.tolist(),
    "dx": dx.flatten().tolist(), "dgamma": dg.tolist(), "dbeta": db.tolist(), "torch": torch.__version__,
}
with open("torch_fixtures.json", "w") as fp:
    json.dump(out, fp, separators=(",", ":"))
