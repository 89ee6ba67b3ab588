"""History shows a thread's images: a thumbnail for our own data: images, text for URLs."""

from __future__ import annotations

import base64
import io
from html.parser import HTMLParser

from PIL import Image

from nscale_jupyter import ImagePart, Message, TextPart
from nscale_jupyter._images import image_part
from nscale_jupyter.display._images import image_html
from nscale_jupyter.display._transcript import transcript_bundle


class Imgs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.srcs: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "img":
            self.srcs.append(dict(attrs)["src"] or "")


def parsed(markup: str) -> Imgs:
    parser = Imgs()
    parser.feed(markup)
    return parser


def picture(size: tuple[int, int] = (640, 480)) -> ImagePart:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buffer, format="PNG")
    return image_part(buffer.getvalue())


def test_history_shows_a_thumbnail_not_the_whole_image() -> None:
    part = picture()
    bundle = transcript_bundle("t", [Message.user([TextPart("What is it?"), part])])
    found = parsed(bundle["text/html"])
    (src,) = found.srcs
    assert src.startswith("data:image/png;base64,") and src != part.url
    thumb = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
    assert thumb.size == (96, 72)
    assert "What is it?" in bundle["text/html"]
    plain = "thread t: 1 messages\nuser: What is it?\n[image: PNG 640x480, 1 kB]"
    assert bundle["text/plain"] == plain


def test_a_url_is_text_the_browser_does_not_fetch() -> None:
    url = 'https://example.org/a.png?x="><script>alert(1)</script>'
    bundle = transcript_bundle("t", [Message.user([TextPart("Hi"), ImagePart(url)])])
    found = parsed(bundle["text/html"])
    assert found.srcs == [] and "a" not in found.tags and "script" not in found.tags
    assert "example.org/a.png" in bundle["text/html"]
    assert f"[image: {url}]" in bundle["text/plain"]


def test_a_data_uri_we_did_not_make_is_not_shown_as_an_image() -> None:
    svg = "data:image/svg+xml;base64," + base64.b64encode(b"<svg onload='x()'/>").decode()
    lying = "data:image/png;base64," + base64.b64encode(b"<svg onload='x()'/>").decode()
    for url in (svg, lying):
        html = image_html(ImagePart(url))
        assert parsed(html).srcs == [] and "<svg" not in html


def test_an_image_only_message_and_text_messages_alongside() -> None:
    part = picture((20, 20))
    bundle = transcript_bundle("t", [Message.user([part]), Message.assistant("Blue.")])
    assert len(parsed(bundle["text/html"]).srcs) == 1
    assert "user: [image: PNG 20x20, 1 kB]\nassistant: Blue." in bundle["text/plain"]
