"""`make lab`: JupyterLab on notebooks/, talking to the local engine (or nscale with a key).

With no NSCALE_API_KEY the local vLLM engine is started first and NSCALE_BASE_URL
points the kernels at it. Ctrl-C stops JupyterLab and the engine.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.encrypted_kernels import SERVER_FLAGS  # noqa: E402


def main() -> int:
    engine = None
    env = dict(os.environ)
    if not env.get("NSCALE_API_KEY"):
        from nscale_jupyter.local import start

        print("no NSCALE_API_KEY: starting the local vLLM engine (about a minute)...", flush=True)
        engine = start()
        env["NSCALE_BASE_URL"] = engine.base_url
        print(f"engine ready at {engine.base_url} (model {engine.model})", flush=True)
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        f"--ServerApp.root_dir={ROOT / 'notebooks'}",
        "--ip=127.0.0.1",
        "--LabApp.news_url=None",
        *SERVER_FLAGS,
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    try:
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:
        return 0
    finally:
        if engine is not None:
            engine.stop()


if __name__ == "__main__":
    raise SystemExit(main())
