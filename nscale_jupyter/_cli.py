"""``nscale-jupyter`` console command: ``nscale-jupyter local`` starts the engine."""

from __future__ import annotations

import argparse
import signal
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nscale-jupyter")
    sub = parser.add_subparsers(dest="command", required=True)
    local = sub.add_parser("local", help="start a local vLLM engine on 127.0.0.1")
    local.add_argument("--model", help="a local model directory (default: the tiny model)")
    local.add_argument("--port", type=int, help="port (default: a free one)")
    local.add_argument("--name", help="served model name")
    args = parser.parse_args(argv)

    from .local import EngineError, start

    print("starting the local vLLM engine (about a minute)...", flush=True)
    try:
        engine = start(args.model, port=args.port, served_name=args.name)
    except EngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"engine ready: {engine.base_url}  model: {engine.model}  log: {engine.log_path}")
    print(f"  export NSCALE_BASE_URL={engine.base_url}")
    print("Ctrl-C stops it.", flush=True)
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    except KeyboardInterrupt:
        pass
    finally:
        engine.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
