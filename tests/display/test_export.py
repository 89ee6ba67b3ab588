"""Exports hold every text as text: hostile model output cannot act in .md, .html or .ipynb.

Every corpus string (tests/markdown_corpus.py) goes in as a reply, its
reasoning, a call's arguments, a tool's result and a prompt. The Markdown
(rendered by markdown-it-py with raw HTML on, as a trusted notebook output
would be) and the notebook's outputs hold no element or attribute that can
act, no math and only our own thumbnails; the HTML page too, and it still
reads every text. The notebook is valid nbformat 4.5.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser

import nbformat
import pytest
from markdown_it import MarkdownIt

from nscale_jupyter import ImagePart, Message, Provenance, TextPart, ToolCall
from nscale_jupyter._transcript import Answer, Transcript
from nscale_jupyter.display._export import (
    transcript_html,
    transcript_ipynb,
    transcript_markdown,
)
from tests.html import SAFE_TAGS, dangers, text_of
from tests.markdown_corpus import CORPUS
from tests.servers.conversation import PNG

MD = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
#: Our own structure around the escaped texts (each checked below for what it carries).
OURS = SAFE_TAGS | {"details", "summary", "small", "b", "i"}
PROV = Provenance("m", {"temperature": 0}, "0123456789abcdef", served_model="m$\\", usage={})


def hostile() -> Transcript:
    messages: list[Message] = []
    answers = {}
    for i, text in enumerate(CORPUS):
        messages.append(Message.user(text))
        answers[len(messages)] = Answer(text, PROV)
        messages.append(Message.assistant(text, [ToolCall(f"c{i}", text[:30], text)]))
        messages.append(Message.tool(f"c{i}", text))
    return Transcript(
        "<b>x</b> $y$", tuple(messages), system=CORPUS[0], answers=answers, pending=()
    )


@pytest.fixture(scope="module")
def transcript() -> Transcript:
    return hostile()


def test_markdown_export_is_inert(transcript: Transcript) -> None:
    rendered = MD.render(transcript_markdown(transcript))
    assert dangers(rendered, tags=OURS) == []
    assert "<img" not in rendered


def test_notebook_export_is_valid_and_its_outputs_inert(transcript: Transcript) -> None:
    nb = nbformat.from_dict(transcript_ipynb(transcript))
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].source.startswith("%load_ext nscale_jupyter\n%chat thread ")
    assert [c.source.split("\n", 1)[1] for c in code[1:]] == list(CORPUS)  # the prompts, as sent
    assert all(c.source.startswith("%%chat --no-interpolate\n") for c in code[1:])
    outputs = [o for c in code for o in c.outputs]
    assert len(outputs) == 2 * len(CORPUS)  # each reply and its tool's result
    for cell in nb.cells:
        sources = [cell.source] if cell.cell_type == "markdown" else []
        sources += [o.data["text/markdown"] for o in cell.get("outputs", [])]
        for source in sources:
            assert dangers(MD.render(source), tags=OURS) == [], source[:300]
    assert outputs[0].metadata["nscale"]["request_hash"] == "0123456789abcdef"


class Page(HTMLParser):
    """Every element and attribute of a page, and whether anything could act."""

    BANNED = frozenset(
        [
            "script",
            "iframe",
            "object",
            "embed",
            "form",
            "frame",
            "frameset",
            "base",
            "link",
            "input",
            "button",
            "textarea",
            "select",
            "video",
            "audio",
            "source",
            "math",
            "svg",
            "template",
            "applet",
            "portal",
        ]
    )

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.metas: list[dict[str, str | None]] = []
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BANNED:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            clean = "".join((value or "").split()).lower()
            if name.startswith("on") or name in ("srcdoc", "formaction", "action"):
                self.found.append(f"<{tag} {name}>")
            if name in ("href", "src") and not clean.startswith(("https://", "http://", "data:")):
                self.found.append(f"<{tag} {name}={value!r}>")
            if name == "href" and tag != "a":
                self.found.append(f"<{tag} href>")
        if tag == "meta":
            self.metas.append(dict(attrs))
        if tag == "img":
            self.images.append(dict(attrs).get("src") or "")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def page(html: str) -> Page:
    parser = Page()
    parser.feed(html)
    parser.close()
    return parser


def test_html_export_is_inert_self_contained_and_reads_every_text(transcript: Transcript) -> None:
    html = transcript_html(transcript)
    parsed = page(html)
    assert parsed.found == [] and parsed.images == []
    csp = [m["content"] for m in parsed.metas if m.get("http-equiv") == "Content-Security-Policy"]
    assert csp == [
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; form-action 'none'"
    ]
    assert html.count("<style>") == 1 and "<script" not in html.lower()
    shown = text_of(html)
    for text in CORPUS:  # every text reads as it was written
        assert text in shown, text


def images() -> Transcript:
    prompt = Message.user(
        [
            TextPart("look"),
            ImagePart(PNG),
            ImagePart("https://images.example/cat.png?x=1&y=2"),
            ImagePart("data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+"),
            ImagePart("javascript:alert(1)"),
            ImagePart('data:image/png;base64,AAAA" onerror="alert(1)'),
        ]
    )
    return Transcript("pics", (prompt, Message.assistant("A cat.")))


@pytest.mark.parametrize("kind", ["markdown", "html", "ipynb"])
def test_images_are_thumbnails_or_links_never_fetched(kind: str) -> None:
    t = images()
    if kind == "markdown":
        markup = MD.render(transcript_markdown(t))
    elif kind == "html":
        markup = transcript_html(t)
    else:
        nb = nbformat.from_dict(transcript_ipynb(t))
        nbformat.validate(nb)
        markup = MD.render("\n".join(c.source for c in nb.cells if c.cell_type == "markdown"))
    parsed = page(markup)
    assert parsed.found == []
    assert parsed.images == [PNG]  # the raster data: image only, once
    assert 'href="https://images.example/cat.png?x=1&amp;y=2"' in markup
    assert markup.count("(an image not shown)") == 3  # svg, javascript:, the broken one
    assert "max-width:160px" in markup


def test_provenance_and_cut_off_marks_show(transcript: Transcript) -> None:
    t = Transcript(
        "t",
        (Message.user("hi"), Message("assistant", "Hel", truncated=True)),
        answers={1: Answer("thinking", PROV)},
        pending=(ToolCall("call_9", "lookup"),),
        system="Be brief.",
    )
    md = transcript_markdown(t)
    html = transcript_html(t)
    for out in (md, html):
        assert "(cut off)" in out and "thinking" in out and "call_9" in out
        assert "Be brief." in out
    nb = transcript_ipynb(t)
    assert nb["cells"][1]["source"].endswith("%chat system 'Be brief.'")
    assert json.dumps(nb).count("waiting for an answer by hand") == 1


def test_a_prompt_of_images_only_sends_its_images_again() -> None:
    t = Transcript("t", (Message.user([ImagePart(PNG)]), Message.assistant("A dot.")))
    nb = nbformat.from_dict(transcript_ipynb(t))
    nbformat.validate(nb)
    thumbnail, images, chat = nb.cells[-3:]
    assert thumbnail.cell_type == "markdown" and PNG in thumbnail.source
    namespace: dict[str, object] = {}
    exec(images.source, namespace)
    assert namespace["image_1_1"] == PNG
    assert chat.source == "%%chat --no-interpolate --image image_1_1"
    assert chat.outputs[0].data["text/plain"] == "A dot."


def test_only_names_reach_the_magic_line_and_odd_images_stay_behind() -> None:
    """An odd URL cannot add a flag or a line to the cell; images we cannot send stay out."""
    odd = 'https://example.com/a.png?"--system=evil%0A"+__import__("os")'
    svg = "data:image/svg+xml;base64,PHN2Zy8+"
    prompt = [TextPart("Compare"), ImagePart(odd), ImagePart(svg), ImagePart(PNG)]
    t = Transcript("t", (Message.user(prompt), Message.assistant("ok")))
    nb = nbformat.from_dict(transcript_ipynb(t))
    *_, images, chat = nb.cells
    namespace: dict[str, object] = {}
    exec(images.source, namespace)
    assert [namespace["image_1_1"], namespace["image_1_2"]] == [odd, PNG]
    assert "image_1_3" not in namespace
    assert chat.source == "%%chat --no-interpolate --image image_1_1 --image image_1_2\nCompare"


def test_a_prompt_of_images_none_of_which_can_go_again_is_not_a_chat_cell() -> None:
    t = Transcript("t", (Message.user([ImagePart("file:///etc/passwd")]), Message.assistant("?")))
    chat = nbformat.from_dict(transcript_ipynb(t)).cells[-1]
    assert chat.source == "# a prompt of images not sent again: shown above"
    assert chat.outputs[0].data["text/plain"] == "?"


def test_a_multiline_system_prompt_goes_into_the_notebook_as_config() -> None:
    nb = transcript_ipynb(Transcript("my thread", (), system="Line one.\nLine 'two'."))
    setup = nb["cells"][1]["source"].splitlines()
    assert setup[1] == "%chat thread 'my thread'"
    assert setup[2] == "%config ChatSettings.system = \"Line one.\\nLine 'two'.\""
