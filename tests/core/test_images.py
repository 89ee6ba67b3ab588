"""Images in a user turn: each source kind, sniffing, scaling, the warning, errors,
and a thread that keeps the encoded part (sent again, never encoded again)."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import random
import warnings
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

import nscale_jupyter._images as images
from nscale_jupyter import ImageError, ImagePart, ImageWarning, Message, TextPart, chat
from nscale_jupyter._images import (
    MAX_SIDE,
    describe_image,
    image_part,
    own_data,
    sniff,
    thumbnail,
)
from nscale_jupyter._options import OptionError
from nscale_jupyter._session import Session
from tests.core.streams import sse, stream_response, text_chunks

FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}


def encoded(fmt: str, size: tuple[int, int] = (20, 10), mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, (200, 30, 30) if mode == "RGB" else None).save(buffer, format=fmt)
    return buffer.getvalue()


def noise(size: tuple[int, int], seed: int = 1) -> Image.Image:
    """An image that does not compress (a photo's worst case)."""
    rng = random.Random(seed)
    return Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))


def decoded(part: ImagePart) -> tuple[str, bytes]:
    own = own_data(part)
    assert own is not None, part.url[:60]
    return own


def opened(part: ImagePart) -> Image.Image:
    return Image.open(io.BytesIO(decoded(part)[1]))


# -- sniffing ---------------------------------------------------------------------------
@pytest.mark.parametrize(("fmt", "mime"), FORMATS.items())
def test_sniff_knows_the_four_formats_by_their_bytes(fmt: str, mime: str) -> None:
    assert sniff(encoded(fmt)) == mime


@pytest.mark.parametrize(
    "data", [b"", b"hello", b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"RIFF0000WAVE"]
)
def test_sniff_refuses_the_rest(data: bytes) -> None:
    assert sniff(data) is None


# -- each source kind ---------------------------------------------------------------------
@pytest.mark.parametrize(("fmt", "mime"), FORMATS.items())
def test_a_small_file_is_sent_as_its_own_bytes(tmp_path: Path, fmt: str, mime: str) -> None:
    data = encoded(fmt)
    path = tmp_path / f"picture.{fmt.lower()}"
    path.write_bytes(data)
    part = image_part(str(path))
    assert part.url == f"data:{mime};base64,{base64.b64encode(data).decode()}"
    assert part.to_json() == {"type": "image_url", "image_url": {"url": part.url}}


def test_the_type_comes_from_the_bytes_not_the_suffix(tmp_path: Path) -> None:
    path = tmp_path / "really-a-jpeg.png"
    path.write_bytes(encoded("JPEG"))
    assert image_part(path).url.startswith("data:image/jpeg;base64,")  # a Path works too


def test_a_url_is_sent_as_the_url() -> None:
    url = "https://example.org/cat.png?size=large"
    assert image_part(url) == ImagePart(url)
    assert image_part("  http://example.org/a.jpg ").url == "http://example.org/a.jpg"


def test_a_data_uri_of_an_image_is_kept_and_another_is_refused() -> None:
    uri = "data:image/png;base64," + base64.b64encode(encoded("PNG")).decode()
    assert image_part(uri).url == uri
    svg = "data:image/svg+xml;base64," + base64.b64encode(b"<svg onload=alert(1)/>").decode()
    with pytest.raises(ImageError, match="data: URI"):
        image_part(svg)


@pytest.mark.parametrize("wrap", [bytes, bytearray, memoryview, io.BytesIO])
def test_bytes_and_file_objects(wrap: Any) -> None:
    data = encoded("GIF")
    part = image_part(wrap(data))
    assert decoded(part) == ("image/gif", data)


def test_a_matplotlib_figure_is_sent_as_png() -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3, 2), dpi=50)
    fig.subplots().plot([1, 3, 2])
    part = image_part(fig)
    assert decoded(part)[0] == "image/png"
    assert max(opened(part).size) <= 150  # 3 in at 50 dpi, trimmed to its content


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "CMYK", "I;16"])
def test_a_pil_image_is_sent_as_png(mode: str) -> None:
    part = image_part(Image.new(mode, (30, 20)))
    assert decoded(part)[0] == "image/png"
    assert opened(part).size == (30, 20)


# -- errors ---------------------------------------------------------------------------------
def test_a_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"no such image file: .*nope\.png"):
        image_part(str(tmp_path / "nope.png"))


def test_a_folder_is_not_an_image(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="is a folder"):
        image_part(str(tmp_path))


def test_a_file_of_another_format_says_what_it_starts_with(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("just text")
    with pytest.raises(ImageError, match=r"not a PNG, JPEG, WebP or GIF image.*6a 75 73 74"):
        image_part(path)


def test_truncated_image_bytes_are_refused_when_they_must_be_scaled() -> None:
    data = encoded("PNG", (2000, 10))[:60]
    with pytest.raises(ImageError, match="cannot be read"):
        image_part(data)


@pytest.mark.parametrize("source", [42, None, ["a.png"], {"url": "x"}])
def test_other_types_say_what_is_accepted(source: Any) -> None:
    with pytest.raises(ImageError, match="a file path, an http"):
        image_part(source)


def test_image_error_is_a_value_error_of_the_tree() -> None:
    from nscale_jupyter import NscaleError

    assert issubclass(ImageError, NscaleError) and issubclass(ImageError, ValueError)


# -- scaling and re-encoding ------------------------------------------------------------------
def test_a_large_image_is_scaled_to_the_longest_side_keeping_its_shape() -> None:
    part = image_part(encoded("PNG", (3000, 1000)))
    mime, _ = decoded(part)
    assert mime == "image/png" and opened(part).size == (MAX_SIDE, round(MAX_SIDE / 3))


def test_a_large_jpeg_stays_jpeg_and_max_side_is_a_parameter() -> None:
    part = image_part(encoded("JPEG", (800, 1200)), max_side=300)
    assert decoded(part)[0] == "image/jpeg" and opened(part).size == (200, 300)


def test_transparency_survives_scaling() -> None:
    buffer = io.BytesIO()
    Image.new("RGBA", (2000, 2000), (0, 0, 255, 0)).save(buffer, format="PNG")
    part = image_part(buffer.getvalue())
    assert decoded(part)[0] == "image/png" and opened(part).mode == "RGBA"


def test_a_heavy_photo_saved_as_png_is_re_encoded_smaller() -> None:
    buffer = io.BytesIO()
    noise((700, 700)).save(buffer, format="PNG")
    heavy = buffer.getvalue()
    assert len(heavy) > images.REENCODE_BYTES
    part = image_part(heavy)
    mime, data = decoded(part)
    assert mime == "image/jpeg" and len(data) < len(heavy)
    assert opened(part).size == (700, 700)  # not scaled: it was not too big


def test_warns_once_over_the_limit_and_not_under(monkeypatch: pytest.MonkeyPatch) -> None:
    data = encoded("PNG", (40, 40))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        image_part(data)  # under the limit: silent
    monkeypatch.setattr(images, "WARN_BYTES", len(data) - 1)
    with pytest.warns(ImageWarning, match=r"bytes: the image is 0\.0 MB as sent") as caught:
        image_part(data)
    assert len(caught) == 1


# -- showing --------------------------------------------------------------------------------------
def test_a_thumbnail_is_small_and_only_for_our_own_data_uris() -> None:
    part = image_part(encoded("JPEG", (400, 200)))
    thumb = thumbnail(part)
    assert thumb is not None and thumb.startswith("data:image/png;base64,")
    small = Image.open(io.BytesIO(base64.b64decode(thumb.split(",", 1)[1])))
    assert small.size == (96, 48)
    assert thumbnail(ImagePart("https://example.org/cat.png")) is None
    lying = "data:image/png;base64," + base64.b64encode(encoded("JPEG")).decode()
    assert thumbnail(ImagePart(lying)) is None  # the label does not match the bytes
    assert thumbnail(ImagePart("data:image/png;base64,!!!")) is None


def test_describe_image() -> None:
    assert describe_image(image_part(encoded("WEBP", (64, 32)))) == "[image: WEBP 64x32, 1 kB]"
    assert describe_image(ImagePart("https://x.org/a.png")) == "[image: https://x.org/a.png]"


# -- chat(images=...) and the thread ----------------------------------------------------------
class Recorder:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json={"object": "list", "data": [{"id": "vlm"}]})
        self.bodies.append(json.loads(request.content))
        return stream_response(sse(text_chunks(["A red ", "square."])))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def session(recorder: Recorder) -> Session:
    s = Session(api_key="sk-test", transport=httpx.MockTransport(recorder))
    s.settings.base_url = "https://api.test/v1"
    return s


def test_chat_images_join_the_prompt_as_parts(session: Session, recorder: Recorder) -> None:
    data = encoded("PNG")
    chat("What is it?", images=[data, "https://x.org/b.jpg"], session=session)
    (user,) = [m for m in recorder.bodies[0]["messages"] if m["role"] == "user"]
    assert user["content"] == [
        {"type": "text", "text": "What is it?"},
        {"type": "image_url", "image_url": {"url": image_part(data).url}},
        {"type": "image_url", "image_url": {"url": "https://x.org/b.jpg"}},
    ]


def test_one_image_need_not_be_in_a_list(session: Session, recorder: Recorder) -> None:
    chat("Hi", images="https://x.org/b.jpg", session=session)
    content = recorder.bodies[0]["messages"][-1]["content"]
    assert [p["type"] for p in content] == ["text", "image_url"]


def test_images_join_a_user_message_with_parts_already(
    session: Session, recorder: Recorder
) -> None:
    first = ImagePart("https://x.org/1.png")
    prompt = Message.user([TextPart("Compare"), first])
    chat(prompt, images=["https://x.org/2.png"], session=session)
    urls = [p["image_url"]["url"] for p in recorder.bodies[0]["messages"][-1]["content"][1:]]
    assert urls == ["https://x.org/1.png", "https://x.org/2.png"]


def test_images_after_an_assistant_message_are_refused(session: Session) -> None:
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    with pytest.raises(OptionError, match="not 'user'"):
        chat(messages, images=["https://x.org/a.png"], session=session)


def test_a_bad_image_raises_before_anything_is_sent(
    session: Session, recorder: Recorder, tmp_path: Path
) -> None:
    with pytest.raises(ImageError, match="no such image file"):
        chat("Hi", images=[str(tmp_path / "gone.png")], session=session)
    assert recorder.bodies == []


def test_the_thread_keeps_the_encoded_part_and_never_encodes_it_again(
    session: Session, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Any] = []
    real = images.image_part

    def counting(source: Any, **kwargs: Any) -> ImagePart:
        calls.append(source)
        return real(source, **kwargs)

    monkeypatch.setattr(images, "image_part", counting)
    picture = Image.new("RGB", (30, 30), (0, 128, 0))
    chat("What colour?", images=[picture], thread="t", session=session)
    chat("And now?", thread="t", session=session)
    chat("Once more?", thread="t", session=session)
    assert len(calls) == 1
    kept = session.thread("t").messages[0]
    assert isinstance(kept.content, tuple) and isinstance(kept.content[1], ImagePart)
    sent = [next(m for m in b["messages"] if m["role"] == "user") for b in recorder.bodies]
    assert len(sent) == 3
    assert all(s["content"][1]["image_url"]["url"] == kept.content[1].url for s in sent)


def test_achat_takes_images_too(session: Session, recorder: Recorder) -> None:
    from nscale_jupyter import achat

    asyncio.run(achat("Hi", images=[encoded("JPEG")], session=session))
    part = recorder.bodies[0]["messages"][-1]["content"][1]
    assert part["image_url"]["url"].startswith("data:image/jpeg;base64,")
