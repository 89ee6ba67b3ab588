"""Images through ``%%chat --image`` to a real vision model on the local vLLM engine.

The model is built for the session by ``scripts/build_tiny_vlm.py`` (a tiny,
randomly initialised Idefics3: its answers are noise). What is checked is that
the engine took each image: 200, and the prompt grows by the image's tokens
(16 ``<image>`` tokens and 3 around them, per image); that the thread sends its
image again; that the engine's limit is one clear line; and that the text-only
tiny-chat model refuses an image with a clear 400.
"""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from PIL import Image

from nscale_jupyter import BadRequestError, chat
from nscale_jupyter._session import Session
from tests.conftest import ROOT, missing, require
from tests.local.conftest import engine_shell

pytestmark = pytest.mark.engine

#: Tokens one image adds to the prompt: <fake_token_around_image><global-img>, 16 x <image>,
#: <fake_token_around_image> (see scripts/build_tiny_vlm.py).
IMAGE_TOKENS = 19


@pytest.fixture(scope="module")
def vlm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from nscale_jupyter.local import EngineError, engine_python, start

    python = engine_python()
    require(python.exists(), f"vLLM engine venv missing ({python}); run `make engine`")
    out = tmp_path_factory.mktemp("vlm") / "tiny-vlm"
    build = subprocess.run(
        [str(python), str(ROOT / "scripts" / "build_tiny_vlm.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    try:
        engine = start(out, extra_args=["--limit-mm-per-prompt", '{"image": 2}'])
    except EngineError as exc:
        missing(f"the vision engine did not start: {exc}")
    yield engine
    engine.stop()


@pytest.fixture
def ip(vlm: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    shell = next(gen := engine_shell(vlm.base_url, monkeypatch))
    yield shell
    for name in ("_", "fig", "photo"):
        shell.user_ns.pop(name, None)
    next(gen, None)


def png(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def cell(ip: InteractiveShell, line: str, body: str) -> tuple[Any, Any]:
    ip.user_ns.pop("_", None)
    with capture_output() as cap:
        ip.run_cell_magic("chat", line, body)
    return cap, ip.user_ns.get("_")


def test_the_engine_takes_images_from_the_magic(ip: InteractiveShell, tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3, 2), dpi=60)
    fig.subplots().plot([1, 3, 2])
    ip.user_ns["fig"] = fig
    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (2400, 1600), (20, 160, 90)).save(photo, format="JPEG")
    _, text = cell(ip, "-t 0 --max-tokens 4 --new", "What is in the picture?")
    _, one = cell(ip, "-t 0 --max-tokens 4 --new --image fig", "What is in the picture?")
    _, two = cell(
        ip, f"-t 0 --max-tokens 4 --new --image fig --image {photo}", "What is in the picture?"
    )
    assert text.error is None and one.error is None and two.error is None
    assert one.model == "tiny-vlm" and one.finish_reason == "length"
    assert one.usage.prompt_tokens - text.usage.prompt_tokens == IMAGE_TOKENS
    assert two.usage.prompt_tokens - text.usage.prompt_tokens == 2 * IMAGE_TOKENS


def test_the_thread_sends_its_image_again(ip: InteractiveShell, tmp_path: Path) -> None:
    path = tmp_path / "red.png"
    path.write_bytes(png((64, 64), (255, 0, 0)))
    _, first = cell(ip, f"-t 0 --max-tokens 3 --new --image {path}", "Colour?")
    _, second = cell(ip, "-t 0 --max-tokens 3", "Again?")
    with capture_output() as cap:
        ip.run_line_magic("chat", "history")
    assert "user: Colour?\n[image: PNG 64x64" in cap.outputs[-1].data["text/plain"]
    _, plain = cell(ip, "-t 0 --max-tokens 3 --new", "Colour?")
    # The second prompt holds the first turn, its image included.
    assert second.usage.prompt_tokens > first.usage.prompt_tokens + 3
    assert first.usage.prompt_tokens - plain.usage.prompt_tokens == IMAGE_TOKENS


def test_the_engine_limit_is_one_clear_line(ip: InteractiveShell) -> None:
    raw = png((32, 32), (0, 0, 255))
    ip.user_ns["photo"] = raw
    cap, _ = cell(ip, "--max-tokens 3 --new --image photo --image photo --image photo", "Hi")
    assert "At most 2 image(s) may be provided in one prompt" in cap.stderr
    assert cap.stderr.count("\n") == 1 and "Traceback" not in cap.stderr


def test_a_text_model_refuses_an_image_clearly(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NSCALE_API_KEY", raising=False)
    session = Session()
    session.settings.base_url = engine.base_url
    try:
        with pytest.raises(BadRequestError) as caught:
            chat("What?", images=[png((16, 16), (0, 0, 0))], max_tokens=3, session=session)
    finally:
        session.close()
    assert caught.value.status_code == 400
    assert "tiny-chat is not a multimodal model" in str(caught.value)


def test_a_url_goes_as_a_url_and_the_engine_fetches_it(
    ip: InteractiveShell, tmp_path: Path
) -> None:
    import functools
    import http.server
    import threading

    (tmp_path / "x.png").write_bytes(png((48, 48), (9, 9, 9)))
    fetched: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            fetched.append(self.path)

    handler = functools.partial(Handler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/x.png"
        _, plain = cell(ip, "-t 0 --max-tokens 3 --new", "Hi")
        _, result = cell(ip, f"-t 0 --max-tokens 3 --new --image {url}", "Hi")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert result.error is None and fetched == ["/x.png"]  # once, by the engine
    assert result.usage.prompt_tokens - plain.usage.prompt_tokens == IMAGE_TOKENS
    sent = result.request.messages[-1].content
    assert sent[1].url == url
