#!/usr/bin/env bash
# Copies the ONNX project's backend node tests for the ops Kernels.Onnx implements into this folder.
# Needs Debian's python3-onnx (1.12): apt-get install python3-onnx. Its case scripts use numpy aliases that
# numpy 1.24 removed (np.float, np.int, np.bool, np.object); they are restored before the generator runs.
set -euo pipefail
cd "$(dirname "$0")"
out=$(mktemp -d)
/usr/bin/python3 - "$out" <<'PY'
import sys
import numpy as np
for alias, kind in (("float", float), ("int", int), ("bool", bool), ("object", object)):
    if not hasattr(np, alias):
        setattr(np, alias, kind)
from onnx.backend.test.cmd_tools import main
sys.argv = ["generate-data", "generate-data", "-o", sys.argv[1]]
main()
PY
ours='basic_conv_with_padding|basic_conv_without_padding|conv_with_(autopad_same|strides_and_asymmetric_padding|strides_no_padding|strides_padding)|averagepool_2d_.*|maxpool_2d_.*|globalaveragepool.*|gemm_.*|matmul_2d|relu|flatten_.*|softmax_(axis_[012]|default_axis|example|large_number|negative_axis)|batchnorm_(epsilon|example).*|add|add_bcast|reshape_.*|constant_pad|concat_.*|identity|dropout_(default|default_ratio|default_old|random_old|default_mask)|constant'
ours+='|abs|clip|clip_default_(inbounds|max|min)|clip_(example|inbounds|outbounds|splitbounds)|(div|mul|sub)(_bcast|_example)?|elu(_default|_example)?|erf|exp(_example)?|hardsigmoid(_default|_example)?|hardswish(_expanded)?|leakyrelu(_default|_example)?|log(_example)?|(max|min)_(example|float32|one_input|two_inputs)|neg(_example)?|pow(_bcast_array|_bcast_scalar|_example)?|reciprocal(_example)?|sigmoid(_example)?|sqrt(_example)?|tanh(_example)?|layer_normalization_([234]d_axis[0-9a-z_]*([0-4]|epsilon)|default_axis)'
ours+='|transpose_.*|slice.*|split_.*|squeeze.*|unsqueeze_.*|gather_(0|1|2d_indices|negative_indices)|shape.*|expand_.*|constantofshape_.*'
ours+='|reduce_(mean|max)_.*|reduce_sum_(default|do_not|empty|keepdims|negative).*'
cases=$(ls "$out/node" | grep -E "^test_($ours)\$")
rm -rf test_*
for c in $cases; do cp -r "$out/node/$c" .; done
rm -rf "$out"
echo "$(echo "$cases" | wc -l) cases, $(du -sh . | cut -f1)"
