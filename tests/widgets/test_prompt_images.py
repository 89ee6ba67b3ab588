"""The panel's image row: uploads checked as --image bytes are, every name shown as text."""

from __future__ import annotations

import base64

from nscale_jupyter._types import ImagePart
from tests.servers.conversation import PNG

DOT = base64.b64decode(PNG.partition(",")[2])


def upload(name: str, content: bytes) -> dict[str, object]:
    """A file as the browser sends it (its time in ms)."""
    return {"name": name, "type": "", "size": len(content), "content": content,
            "last_modified": 0}  # fmt: skip


def test_a_file_that_is_no_image_is_named_as_text_and_not_kept() -> None:
    from nscale_jupyter.widgets._prompt_images import PromptImages

    images = PromptImages()
    assert images.clear.disabled and images.text() == ""
    hostile = "<img src=x onerror=alert(1)>.png"
    images.upload.set_state({"value": [upload(hostile, b"<svg onload=alert(1)>"),
                                       upload("dot.png", DOT)]})  # fmt: skip
    assert images.parts == (ImagePart(PNG),)
    assert "&lt;img src=x onerror=alert(1)&gt;.png: not sent" in images.label.value
    assert "<svg" not in images.label.value and "<img src=x" not in images.label.value
    assert images.text() == " [+1 image]" and not images.clear.disabled
    images.clear.click()
    assert images.parts == () and "no images" in images.label.value


def test_a_url_image_shows_as_text_never_fetched() -> None:
    from nscale_jupyter.widgets._prompt_images import PromptImages

    images = PromptImages()
    images.set([ImagePart("https://example.com/cat.png"), ImagePart(PNG)])
    assert images.text() == " [+2 images]"
    assert "<code>" in images.label.value and 'src="https' not in images.label.value
    assert images.label.value.count("<img") == 1  # the thumbnail of our own data: image
