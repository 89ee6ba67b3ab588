"""Start and stop a local vLLM engine (its OpenAI-compatible server) on loopback.

The engine lives in its own venv (torch and vLLM are large and pinned), made
by ``make engine`` under ``~/.cache/nscale-jupyter/``; this module only
starts that venv's python as a subprocess. No IPython here.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx

__all__ = [
    "VLLM_VERSION",
    "Engine",
    "EngineError",
    "default_model_dir",
    "engine_python",
    "start",
]

VLLM_VERSION = "0.32.0"
DEFAULT_NAME = "tiny-chat"
INSTALL_HINT = "make engine   (or: bash scripts/engine_venv.sh)"


#: How much lower the engine's CPU priority is than its starter's (``nice``): on a
#: laptop or a 2-core classroom machine the engine would otherwise starve the kernel
#: it serves, and a cell would wait behind it. Its workers, forked later, inherit it.
#: On Linux with autogroups (the default on desktops) a nice value only counts inside
#: its session, and the engine runs in a session of its own: its session's group is
#: given the same value (``/proc/PID/autogroup``), or it keeps an equal share.
ENGINE_NICE = 10


class EngineError(RuntimeError):
    """The local engine could not be started (not installed, port taken, died)."""


def cache_dir() -> Path:
    return Path(os.environ.get("NSCALE_JUPYTER_CACHE", Path.home() / ".cache" / "nscale-jupyter"))


def default_model_dir() -> Path:
    """The tiny chat model shipped with the package."""
    return Path(__file__).resolve().parent / "tiny-chat"


def engine_python() -> Path:
    """``$NSCALE_VLLM_PYTHON``, else the engine venv's python."""
    explicit = os.environ.get("NSCALE_VLLM_PYTHON")
    if explicit:
        return Path(explicit)
    return cache_dir() / f"vllm-{VLLM_VERSION}" / "bin" / "python"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class Engine:
    """A running vLLM server; stop it with :meth:`stop` or a ``with`` block."""

    base_url: str
    model: str
    port: int
    log_path: Path
    model_dir: Path
    process: subprocess.Popen[bytes] = field(repr=False)
    _stopped: bool = field(default=False, init=False, repr=False)

    def __enter__(self) -> Engine:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        """Terminate the engine's process group, then kill what lingers.

        Safe to call twice; the engine's worker processes go with it.
        """
        if self._stopped:
            return
        self._stopped = True
        pgid = self.process.pid
        if self.process.poll() is None:
            _signal_group(pgid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(pgid, signal.SIGKILL)
                self.process.wait(5)
        # Workers left behind by the server (it died first, or shut down slowly).
        deadline = time.monotonic() + 5.0
        while _signal_group(pgid, 0) and time.monotonic() < deadline:
            time.sleep(0.1)
        _signal_group(pgid, signal.SIGKILL)
        with contextlib.suppress(ValueError):
            atexit.unregister(self.stop)


def _signal_group(pgid: int, sig: int) -> bool:
    """Send ``sig`` to a process group; False when the group is gone."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    return True


# Run before vLLM: ask Linux to SIGTERM the engine when the process that
# started it dies (a killed kernel or CLI), so no engine is left orphaned.
_ORPHAN_GUARD = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG\n"
    "if os.getppid() != int(sys.argv[1]): sys.exit(1)\n"
    "os.execv(sys.executable, [sys.executable, *sys.argv[2:]])\n"
)


def command(
    python: Path, model_dir: Path, name: str, port: int, max_model_len: int = 512
) -> list[str]:
    """The vLLM command line that works on CPU here."""
    return [
        str(python), "-m", "vllm.entrypoints.openai.api_server",
        "--model", str(model_dir),
        "--served-model-name", name,
        "--host", "127.0.0.1",
        "--port", str(port),
        "--max-model-len", str(max_model_len),
        "--dtype", "float32",
        "--enforce-eager",
        "--enable-auto-tool-choice",
        "--tool-call-parser", "hermes",
        "--reasoning-parser", "qwen3",
        "--default-chat-template-kwargs", json.dumps({"enable_thinking": False}),
    ]  # fmt: skip


def start(
    model_dir: str | Path | None = None,
    *,
    port: int | None = None,
    served_name: str | None = None,
    python: str | Path | None = None,
    timeout: float = 300.0,
    log_path: str | Path | None = None,
    extra_args: Sequence[str] = (),
) -> Engine:
    """Start vLLM on 127.0.0.1 and wait until ``GET /v1/models`` answers.

    ``extra_args`` go to vLLM after the usual ones (e.g. a vision model's
    ``--limit-mm-per-prompt '{"image": 2}'``).
    """
    model = Path(model_dir) if model_dir is not None else default_model_dir()
    if not (model / "config.json").is_file():
        raise EngineError(f"no model at {model} (expected a config.json there)")
    py = Path(python) if python is not None else engine_python()
    if not py.exists():
        raise EngineError(
            f"vLLM is not installed ({py} is missing). Install it with:\n  " + INSTALL_HINT
        )
    # find_spec, not import: importing vllm (and torch) takes seconds.
    probe = "import importlib.util as u, sys; sys.exit(u.find_spec('vllm') is None)"
    check = subprocess.run([str(py), "-c", probe], capture_output=True, timeout=60)
    if check.returncode != 0:
        raise EngineError(f"vLLM is not installed in {py}. Install it with:\n  " + INSTALL_HINT)
    if port is not None and _port_taken(port):
        raise EngineError(f"port {port} on 127.0.0.1 is already taken; choose another port")
    port = port if port is not None else _free_port()
    name = served_name or (DEFAULT_NAME if model == default_model_dir() else model.name)
    logs = cache_dir() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log = Path(log_path) if log_path is not None else logs / f"engine-{port}.log"
    env = {
        **os.environ,
        "VLLM_CPU_KVCACHE_SPACE": "1",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "VLLM_NO_USAGE_STATS": "1",
        "DO_NOT_TRACK": "1",
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", str(min(2, os.cpu_count() or 1))),
    }
    env.pop("NSCALE_API_KEY", None)  # the engine has no business with the key
    argv = [*command(py, model, name, port), *extra_args]
    # The death signal follows the starting *thread*: only guard from the main one.
    if sys.platform == "linux" and threading.current_thread() is threading.main_thread():
        argv = [argv[0], "-c", _ORPHAN_GUARD, str(os.getpid()), *argv[1:]]
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    if hasattr(os, "setpriority"):  # the notebook it serves comes first on a small machine
        with contextlib.suppress(OSError):
            nice = min(19, os.getpriority(os.PRIO_PROCESS, 0) + ENGINE_NICE)
            os.setpriority(os.PRIO_PROCESS, process.pid, nice)
            _demote_group(process.pid, nice)
    engine = Engine(f"http://127.0.0.1:{port}/v1", name, port, log, model, process)
    atexit.register(engine.stop)
    try:
        _wait_ready(engine, timeout)
    except BaseException:
        engine.stop()
        raise
    return engine


def _demote_group(pid: int, nice: int) -> None:
    """Give the engine's session group (Linux autogroup) the engine's nice value."""
    path = Path(f"/proc/{pid}/autogroup")
    if path.exists():
        with contextlib.suppress(OSError):
            path.write_text(str(nice))


def _wait_ready(engine: Engine, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if engine.process.poll() is not None:
            raise EngineError(
                f"the engine exited during startup (code {engine.process.returncode}); "
                f"last lines of {engine.log_path}:\n{_tail(engine.log_path)}"
            )
        try:
            # trust_env=False: a proxy from the environment must not see loopback.
            response = httpx.get(engine.base_url + "/models", timeout=2.0, trust_env=False)
            if response.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise EngineError(
        f"the engine did not answer within {timeout:.0f} s; last lines of "
        f"{engine.log_path}:\n{_tail(engine.log_path)}"
    )
