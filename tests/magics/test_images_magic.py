"""``%%chat --image``: from a real shell to the JSON body a loopback server receives."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from PIL import Image

import nscale_jupyter._api as api
import nscale_jupyter._images as images
from nscale_jupyter._session import Session
from tests.servers.fault_server import FaultServer

from .conftest import KEY, ipython_shell


@pytest.fixture(scope="module")
def srv() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


@pytest.fixture
def shell(srv: FaultServer) -> Iterator[InteractiveShell]:
    shell = ipython_shell()
    api.set_default_session(Session(api_key=KEY))
    shell.run_line_magic("load_ext", "nscale_jupyter")
    api.default_session().settings.base_url = srv.base_url
    srv.requests.clear()
    yield shell
    shell.run_line_magic("unload_ext", "nscale_jupyter")
    for name in ("_", "fig", "pic", "raw", "folder", "photo"):
        shell.user_ns.pop(name, None)


def png(size: tuple[int, int] = (24, 16), colour: tuple[int, int, int] = (255, 0, 0)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def data_uri(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def run(shell: InteractiveShell, source: str) -> tuple[Any, str, str]:
    with capture_output() as cap:
        result = shell.run_cell(source)
    return result, cap.stdout, cap.stderr


def sent(srv: FaultServer) -> list[dict[str, Any]]:
    """The user messages of the last chat request."""
    chats = [r.json for r in srv.requests if r.path.endswith("/chat/completions")]
    return [m for m in chats[-1]["messages"] if m["role"] == "user"]


def test_a_file_goes_as_a_data_uri_after_the_text(
    shell: InteractiveShell, srv: FaultServer, tmp_path: Path
) -> None:
    path = tmp_path / "red.png"
    path.write_bytes(png())
    result, _, err = run(shell, f"%%chat --image {path}\nWhat colour is this?")
    assert result.success and err == ""
    assert sent(srv)[-1]["content"] == [
        {"type": "text", "text": "What colour is this?"},
        {"type": "image_url", "image_url": {"url": data_uri(png())}},
    ]


def test_repeatable_in_order_urls_as_urls(
    shell: InteractiveShell, srv: FaultServer, tmp_path: Path
) -> None:
    (tmp_path / "a.png").write_bytes(png())
    cell = (
        f"%%chat --image https://example.org/cat.jpg --image {tmp_path / 'a.png'}\nCompare them."
    )
    assert run(shell, cell)[0].success
    content = sent(srv)[-1]["content"]
    assert [p.get("image_url", {}).get("url", p.get("text")) for p in content] == [
        "Compare them.",
        "https://example.org/cat.jpg",
        data_uri(png()),
    ]


def test_notebook_objects_by_name(shell: InteractiveShell, srv: FaultServer) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2), dpi=40)
    ax.plot([1, 2])
    shell.user_ns["fig"] = fig
    shell.user_ns["pic"] = Image.new("RGB", (10, 10), (0, 255, 0))
    shell.user_ns["raw"] = png(colour=(0, 0, 255))
    assert run(shell, "%%chat --image fig --image pic --image raw\nThree images.")[0].success
    urls = [p["image_url"]["url"] for p in sent(srv)[-1]["content"][1:]]
    assert len(urls) == 3 and urls[2] == data_uri(png(colour=(0, 0, 255)))
    assert all(u.startswith("data:image/png;base64,") for u in urls)
    plt.close(fig)


def test_braces_expand_to_text_so_an_object_in_braces_gets_a_hint(
    shell: InteractiveShell, srv: FaultServer
) -> None:
    from matplotlib.figure import Figure

    shell.user_ns["fig"] = Figure(figsize=(2, 2), dpi=40)
    result, _, _ = run(shell, "%%chat --image {fig}\nHi")  # IPython expands it to its str()
    assert "no such image file: Figure(80x80)" in str(result.error_in_exec)
    assert "in the notebook: --image NAME" in str(result.error_in_exec)


def test_a_path_built_from_variables(
    shell: InteractiveShell, srv: FaultServer, tmp_path: Path
) -> None:
    (tmp_path / "x.png").write_bytes(png())
    shell.user_ns["folder"] = str(tmp_path)
    assert run(shell, '%%chat --image "{folder}/x.png"\nWhat is it?')[0].success
    assert sent(srv)[-1]["content"][1]["image_url"]["url"] == data_uri(png())


def test_the_line_magic_takes_images_too(
    shell: InteractiveShell, srv: FaultServer, tmp_path: Path
) -> None:
    (tmp_path / "x.png").write_bytes(png())
    assert run(shell, f"%chat --image {tmp_path / 'x.png'} What's this?")[0].success
    content = sent(srv)[-1]["content"]
    assert content[0] == {"type": "text", "text": "What's this?"} and len(content) == 2


def test_an_image_alone_is_a_prompt(
    shell: InteractiveShell, srv: FaultServer, tmp_path: Path
) -> None:
    (tmp_path / "x.png").write_bytes(png())
    assert run(shell, f"%chat --image {tmp_path / 'x.png'}")[0].success
    only = {"type": "image_url", "image_url": {"url": data_uri(png())}}
    assert sent(srv)[-1]["content"] == [only]


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("missing.png", "--image missing.png: no such image file: missing.png"),
        ("{nothing_here}/x.png", "no variable named 'nothing_here'"),
        ("{nothing_here}", "no variable named 'nothing_here'"),
        ("folder", "cannot send a value of type int as an image"),
    ],
)
def test_a_bad_image_is_one_line_and_nothing_is_sent(
    shell: InteractiveShell, srv: FaultServer, flag: str, message: str
) -> None:
    shell.user_ns["folder"] = 3
    result, _, _ = run(shell, f'%%chat --image "{flag}"\nHi')
    assert not result.success and message in str(result.error_in_exec)
    assert type(result.error_in_exec).__name__ == "UsageError"
    assert not [r for r in srv.requests if r.path.endswith("/chat/completions")]


def test_a_text_file_is_refused_by_its_bytes(shell: InteractiveShell, tmp_path: Path) -> None:
    path = tmp_path / "looks.png"
    path.write_text("not an image")
    result, _, _ = run(shell, f"%%chat --image {path}\nHi")
    assert "not a PNG, JPEG, WebP or GIF image" in str(result.error_in_exec)


def test_a_large_image_warns_in_one_stderr_line(
    shell: InteractiveShell, srv: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(images, "WARN_BYTES", 10)
    shell.user_ns["raw"] = png()
    result, _, err = run(shell, "%%chat --image raw\nHi")
    assert result.success
    assert err.startswith("nscale: bytes: the image is 0.0 MB as sent") and err.count("\n") == 1


def test_not_with_over(shell: InteractiveShell) -> None:
    shell.user_ns["raw"] = png()
    result, _, _ = run(shell, "%%chat --over raw --image raw\n{item}")
    assert "--image does not go with --over" in str(result.error_in_exec)


def test_help_lists_the_flag(shell: InteractiveShell) -> None:
    doc = shell.find_cell_magic("chat").__doc__ or ""
    assert "--image SRC" in doc and "Repeatable" in doc


def test_the_thread_sends_the_same_image_again_and_history_shows_it(
    shell: InteractiveShell, srv: FaultServer, tmp_path: Path
) -> None:
    path = tmp_path / "x.png"
    path.write_bytes(png((300, 200)))
    assert run(shell, f"%%chat --new --image {path}\nWhat is it?")[0].success
    path.write_bytes(png((300, 200), colour=(0, 0, 0)))  # a change on disk is not sent
    assert run(shell, "%%chat\nAnd again?")[0].success
    users = sent(srv)
    assert users[0]["content"][1]["image_url"]["url"] == data_uri(png((300, 200)))
    with capture_output() as cap:
        shell.run_line_magic("chat", "history")
    html = cap.outputs[-1].data["text/html"]
    assert html.count("<img ") == 1 and data_uri(png((300, 200))) not in html
    assert "[image: PNG 300x200" in cap.outputs[-1].data["text/plain"]


def test_the_magic_and_chat_send_the_same_body(
    shell: InteractiveShell, srv: FaultServer, tmp_path: Path
) -> None:
    from nscale_jupyter import chat

    path = tmp_path / "x.png"
    path.write_bytes(png((40, 30)))
    url = "https://example.org/y.webp"
    assert run(shell, f"%%chat --new -t 0 --image {path} --image {url}\nWhat is it?")[0].success
    by_magic = [r.json for r in srv.requests if r.path.endswith("/chat/completions")][-1]
    session = Session(api_key=KEY)
    session.settings.base_url = srv.base_url
    try:
        chat("What is it?", images=[path, url], temperature=0, session=session)
    finally:
        session.close()
    by_chat = [r.json for r in srv.requests if r.path.endswith("/chat/completions")][-1]
    assert by_chat == by_magic
