"""Starting and stopping the engine process, and its clear errors."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from nscale_jupyter._cli import main as cli_main
from nscale_jupyter.local import EngineError, default_model_dir, start
from nscale_jupyter.local._engine import _ORPHAN_GUARD, _port_taken, command


def test_command_has_the_flags_that_work_here() -> None:
    cmd = command(Path("/py"), Path("/m"), "tiny-chat", 8000)
    joined = " ".join(cmd)
    for flag in (
        "--host 127.0.0.1",
        "--max-model-len 512",
        "--dtype float32",
        "--enforce-eager",
        "--enable-auto-tool-choice",
        "--tool-call-parser hermes",
        "--reasoning-parser qwen3",
    ):
        assert flag in joined
    assert cmd[cmd.index("--default-chat-template-kwargs") + 1] == '{"enable_thinking": false}'


def test_missing_vllm_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match="make engine"):
        start(python=sys.executable)  # this python has no vllm
    with pytest.raises(EngineError, match="make engine"):
        start(python=tmp_path / "nope" / "python")


def test_missing_model_dir(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match="no model"):
        start(tmp_path)


def test_port_taken_is_refused() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        from nscale_jupyter.local import engine_python

        if not engine_python().exists():
            pytest.skip("needs the engine venv to get past the install check")
        with pytest.raises(EngineError, match=f"port {port}"):
            start(port=port)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie is as good as gone
        return f.read().split(") ")[-1][0] != "Z"


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux-only")
def test_orphan_guard_ends_the_engine_with_its_starter(tmp_path: Path) -> None:
    """The engine's wrapper dies with the process that started it (e.g. a killed kernel)."""
    pid_file = tmp_path / "pid"
    sleeper = (
        "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(60)"
    )
    # starter -> guard (exec) -> sleeper, in a session of its own like the engine.
    starter = (
        "import os, subprocess, sys, time\n"
        "guard, sleeper, pid_file = sys.argv[1:]\n"
        "subprocess.Popen([sys.executable, '-c', guard, str(os.getpid()),\n"
        "                  '-c', sleeper, pid_file], start_new_session=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", starter, _ORPHAN_GUARD, sleeper, str(pid_file)]
    )
    try:
        deadline = time.monotonic() + 20
        while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        engine_pid = int(pid_file.read_text())
        assert _alive(engine_pid)
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 10
    while _alive(engine_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(engine_pid):
        os.kill(engine_pid, signal.SIGKILL)
        pytest.fail("the guarded child outlived the process that started it")


def test_tiny_model_is_shipped_in_the_package() -> None:
    model = default_model_dir()
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"):
        assert (model / name).is_file(), name
    assert sum(p.stat().st_size for p in model.iterdir()) < 10 * 2**20


def test_cli_without_vllm_fails_cleanly(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NSCALE_VLLM_PYTHON", sys.executable)
    assert cli_main(["local"]) == 1
    assert "make engine" in capsys.readouterr().err


@pytest.mark.engine
def test_engine_serves_on_loopback(engine: Any) -> None:
    assert engine.base_url.startswith("http://127.0.0.1:")
    assert engine.running
    response = httpx.get(engine.base_url + "/models")
    assert [m["id"] for m in response.json()["data"]] == ["tiny-chat"]
    assert engine.log_path.is_file()


@pytest.mark.engine
def test_the_engine_yields_the_cpu_to_the_kernel(engine: Any) -> None:
    """The engine and its workers run at a lower priority than the notebook they serve."""
    import os

    from nscale_jupyter.local._engine import ENGINE_NICE

    group = [
        int(pid)
        for pid in os.listdir("/proc")
        if pid.isdigit() and _pgid(int(pid)) == engine.process.pid
    ]
    assert len(group) >= 2  # the server and the engine core it forked
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    for pid in group:
        assert os.getpriority(os.PRIO_PROCESS, pid) == min(19, ours + ENGINE_NICE), pid
    # With autogroups a nice value counts only inside a session: the engine's own
    # session group is demoted too (a cell during a batch: max 927 ms -> 23 ms).
    # A process still in the root group (a container's, say) reads an empty file.
    autogroup = Path(f"/proc/{engine.process.pid}/autogroup")
    if autogroup.exists():
        group_id, _, nice = autogroup.read_text().split()
        assert nice == str(min(19, ours + ENGINE_NICE))
        mine = Path("/proc/self/autogroup").read_text().split()
        assert group_id not in mine  # a session of its own


def _pgid(pid: int) -> int | None:
    import os

    try:
        return os.getpgid(pid)
    except OSError:
        return None


@pytest.mark.engine
def test_stop_really_stops(engine: Any) -> None:
    # A second engine of our own, so the shared one stays up.
    second = start()
    try:
        assert httpx.get(second.base_url + "/models").status_code == 200
    finally:
        second.stop()
    assert not second.running
    assert not _port_taken(second.port)


@pytest.mark.engine
def test_engine_dying_at_startup_shows_its_log(engine: Any, tmp_path: Path) -> None:
    # A model directory vLLM cannot load: the engine exits during startup.
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text('{"model_type": "no-such-architecture"}')
    with pytest.raises(EngineError) as info:
        start(broken, timeout=240)
    message = str(info.value)
    assert "exited during startup" in message
    assert "last lines of" in message and len(message.splitlines()) > 3
