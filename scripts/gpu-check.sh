#!/usr/bin/env bash
# GPU check of the neural style: on a machine with an NVIDIA GPU, installs what the repository
# needs, fetches ONNX Runtime's CUDA provider, renders 10 s of 1080p neural with CUDA and NVENC,
# and prints fps, the VRAM peak, the providers and encoders used, and a frame-level comparison with
# the CPU's output (scripts/gpu-check.ts does the rendering and the comparison).
#
# Needs the npm registry (Bun, the packages) and nuget.org (onnxruntime-node's install script takes
# the CUDA provider libraries from there), plus the CUDA 12 runtime and cuDNN 9 libraries that
# provider loads. Where any of that is missing the check still runs and says what fell back and why.
#
# Usage: scripts/gpu-check.sh [seconds of 1080p (10)] [frames profiled and compared with the CPU (60)]
set -uo pipefail
cd "$(dirname "$0")/.."

echo "== GPU"
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
else
  echo "nvidia-smi not found: no NVIDIA driver here (the render below shows the CPU fallback)"
fi

echo "== install"
command -v bun >/dev/null || npm install -g bun@1.4.5
bun install --frozen-lockfile >/dev/null || exit 1
# onnxruntime-node's CUDA provider (its install script is skipped by default under Bun).
ort_dir=$(cd packages/ml && bun -e "console.log(require('node:path').dirname(require.resolve('onnxruntime-node/package.json')))")
(cd "$ort_dir" && ONNXRUNTIME_NODE_INSTALL=cuda12 node script/install.js) ||
  echo "the CUDA provider could not be fetched (nuget.org unreachable?)"
provider="$ort_dir/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so"
if [ -f "$provider" ]; then
  missing=$(ldd "$provider" | grep 'not found' || true)
  if [ -n "$missing" ]; then
    echo "the CUDA provider is installed but needs libraries this machine lacks:"
    echo "$missing"
  else
    echo "the CUDA provider is installed and its libraries resolve"
  fi
fi

echo "== render"
exec bun scripts/gpu-check.ts "${1:-10}" "${2:-60}"
