#!/usr/bin/env bash
# Run ON THE GPU MACHINE (the device tool), after scripts/gpu/prepare.sh here:
#   carry: [".carry", "dist", "node_modules/node-addon-api"]
#   command: bash scripts/gpu/check.sh
# Builds the addon with plain cmake against python3's CUDA libtorch, runs the CUDA smoke
# checks and the GPU benchmark (ours and the Python port on the same card), and writes logs
# and figures under $OUT, printing a short table last.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/torchfit-gpu}
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu-check.log") 2>&1

xz -dc .carry/node.xz > .carry/node && chmod +x .carry/node
export PATH="$PWD/.carry:$PATH"
node --version; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
python3 -c 'import torch; print("python torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())'

cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DNODE_INCLUDE_DIR="$PWD/.carry/node-include" -DNODE_ADDON_API_DIR="$PWD/node_modules/node-addon-api" > "$OUT/cmake.log" 2>&1 \
  && cmake --build build-gpu -j"$(nproc)" > "$OUT/build.log" 2>&1 || { tail -40 "$OUT/cmake.log" "$OUT/build.log"; exit 1; }
grep torchfit: "$OUT/cmake.log"
export TORCHFIT_ADDON="$PWD/build-gpu/torchfit.node"

mkdir -p data
python3 - <<'PY'
# The test file is not carried: build only the training file's images into the notebook's format.
import gzip, numpy as np
img = np.frombuffer(gzip.open('.carry/fashion-mnist/train-images-idx3-ubyte.gz').read(), np.uint8, offset=16).reshape(-1, 28, 28)
lab = np.frombuffer(gzip.open('.carry/fashion-mnist/train-labels-idx1-ubyte.gz').read(), np.uint8, offset=8)
group = np.array([1, 2, 3, 2, 3, 4, 1, 4, 5, 5], dtype=np.float64)
names = ['Tops', 'Trousers & dresses', 'Pullovers & coats', 'Sandals & sneakers', 'Bags & boots']
np.save('data/fashion_mnist_dataset_train.npy', np.array({'features': (img / 255.0).astype(np.float32), 'target': group[lab], 'class_names': names}, dtype=object))
PY

node scripts/gpu/smoke.mjs | tee "$OUT/smoke.json"
node scripts/bench/train.mjs --device cuda --epochs 3 --threads "$(nproc)" --python python3 --out "$OUT/bench" | tail -25
