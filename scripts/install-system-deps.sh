#!/usr/bin/env bash
# Installs what the OS must provide for Tessera's tests and bench (Debian/Ubuntu, as root or with sudo):
#   chromium          headless browser for the browser tests and the bench; it also ships SwiftShader,
#                     the software Vulkan driver that gives Dawn (Node) and Chromium a WebGPU adapter
#                     on machines without a GPU (/usr/lib/chromium/vk_swiftshader_icd.json)
#   libonnx-testdata  the ONNX project's single-operator conformance tests
#   dataset-fashion-mnist  Fashion-MNIST's IDX files, the data of the accuracy workload (datasets/, models/fashion-mnist)
#   clang-19, lld-19  the C compiler and linker for the CPU kernels (wasm32 with SIMD128)
#   wrk               the HTTP load generator of `npm run cp:load` (C, so it leaves the cores to workerd)
#   hey               its fixed-rate load generator (latency at the target rate; wrk only runs flat out)
#   wasi-libc, libclang-rt-19-dev-wasm32  libm and compiler builtins for wasm32 (the kernels import
#                     nothing at run time)
# Already-installed packages are left alone, so a warm machine pays nothing.
set -euo pipefail

packages=(chromium libonnx-testdata dataset-fashion-mnist clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32 wrk hey)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system deps present: ${packages[*]}"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
