#!/usr/bin/env bash
# Produces wwwroot/threelayerconvnet.safetensors, the network the page loads, by running the main job (the README's
# first command) with its defaults: 8 epochs on the 8,000 embedded training digits, seed 1.
set -euo pipefail
cd "$(dirname "$0")"
out=$(mktemp -d)
dotnet run -c Release --project ../Kernels.Demo -- --out "$out"
cp "$out/threelayerconvnet.safetensors" wwwroot/threelayerconvnet.safetensors
rm -rf "$out"
