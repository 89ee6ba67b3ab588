"""``nscale-jupyter`` console command: ``nscale-jupyter local`` starts the engine."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from types import FrameType


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = argparse.ArgumentParser(prog="nscale-jupyter")
    sub = parser.add_subparsers(dest="command", required=True)
    local = sub.add_parser("local", help="start a local vLLM engine on 127.0.0.1")
    local.add_argument("--model", help="a local model directory (default: the tiny model)")
    local.add_argument("--port", type=int, help="port (default: a free one)")
    local.add_argument("--name", help="served model name")
    args = parser.parse_args(argv)
    return _local(args.model, args.port, args.name)


def _local(model: str | None, port: int | None, name: str | None) -> int:
    from .local import EngineError, start

    # SIGTERM and SIGHUP stop the engine like Ctrl-C does (their default would
    # end this process at once and skip the clean-up).
    previous = {s: signal.signal(s, _interrupt) for s in (signal.SIGTERM, signal.SIGHUP)}
    engine = None
    try:
        print("starting the local vLLM engine (about a minute)...", flush=True)
        engine = start(model, port=port, served_name=name)
        print(f"engine ready: {engine.base_url}  model: {engine.model}  log: {engine.log_path}")
        print(f"  export NSCALE_BASE_URL={engine.base_url}")
        print("Ctrl-C stops it.", flush=True)
        while engine.running:
            time.sleep(0.5)
        print(f"error: the engine exited on its own; see {engine.log_path}", file=sys.stderr)
        return 1
    except EngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopping the engine...", flush=True)
        return 130 if engine is None else 0
    finally:
        if engine is not None:
            engine.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    raise SystemExit(main())
