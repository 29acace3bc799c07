#!/usr/bin/env bash
# Run HERE (no GPU needed) before a device check: fills .carry/ (git-ignored) with what the
# GPU machine lacks: Node compressed, Node's headers, and Debian's Fashion-MNIST train files.
# Carry: .carry dist node_modules/node-addon-api   (about 60 MB in all)
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .carry/fashion-mnist
[ -f .carry/node.xz ] || xz -T2 -6 -c "$(command -v node)" > .carry/node.xz
rm -rf .carry/node-include && cp -r /usr/include/node .carry/node-include
cp /usr/share/datasets/fashion-mnist/train-*-ubyte.gz .carry/fashion-mnist/
npx tsc -p tsconfig.json
du -sh .carry dist node_modules/node-addon-api
