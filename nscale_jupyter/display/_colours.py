"""Text colours that read on a light and a dark theme, and with no theme CSS at all.

No fixed colour meets WCAG's 4.5:1 on both white and JupyterLab Dark's ``#111``
(it would need a relative luminance at most 0.183 and at least 0.200). So a
coloured text is its hue mixed with the theme's own strongest text colour:
darker on a light theme, lighter on a dark one. At 65% of the hue every hue
used here meets 4.5:1 on JupyterLab's light (white, ``#eee``) and dark
(``#111``, ``#212121``) backgrounds (tests/display/test_colours.py works it
out; tests/e2e/test_contrast_browser.py measures it in the browser).

Where JupyterLab's variables are missing (an nbconvert page without its
theme, GitHub) the mix falls back to VS Code's editor text colour, then to
black; a front end that drops the style shows the theme's text colour.
Backgrounds we set (the heatmap's) come with their own dark text instead.
"""

from __future__ import annotations

from ._escape import escape_html

__all__ = ["ERROR", "HUE_SHARE", "MUTED", "THEME_TEXT", "error_html", "tone"]

#: The theme's strongest text colour (black on light, white on dark).
THEME_TEXT = "var(--jp-content-font-color0,var(--vscode-editor-foreground,#000))"
#: How much of the hue a toned colour keeps (the rest is the theme's text colour).
HUE_SHARE = 65


def tone(hue: str) -> str:
    """A CSS colour: ``hue`` (``#rgb``/``#rrggbb``) toned towards the theme's text."""
    return f"color-mix(in srgb,{hue} {HUE_SHARE}%,{THEME_TEXT})"


#: Errors and warnings (red), and dim marks such as the heatmap's ``↵`` (grey).
ERROR, MUTED = tone("#c33"), tone("#999")


def error_html(text: str) -> str:
    """One error line, escaped, in the error colour (the panel's and the picker's)."""
    return f"<span class='nscale-error' style='color:{ERROR}'>{escape_html(text)}</span>"
