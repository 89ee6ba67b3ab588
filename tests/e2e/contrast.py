"""WCAG contrast of every visible text in our outputs, measured in the browser.

``contrast(page)`` opens every ``<details>`` in our outputs (reasoning, tables),
walks each visible text node and composes, along the node's ancestors from
the page's canvas down, the colour of the pixels behind the text and of the
text itself: background colours with their alpha, each ancestor's opacity,
the text colour's alpha. Chromium's computed colours are ``rgb()``/``rgba()``
or ``color(srgb ...)`` (what ``color-mix()`` gives); any other form fails the
check rather than passing unmeasured. WCAG 2's ratio of the two relative
luminances must be at least ``minimum`` (4.5:1 for normal text).

Our outputs are the front end's output areas holding an element with an
``nscale-`` class (every output we draw has one: the reply's footer, tool
cards, heatmaps, compare, branch, history, notices, errors, panel).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["OUTPUTS", "Reading", "contrast"]

#: Our outputs in JupyterLab, Notebook 7 and nbconvert's lab template.
OUTPUTS = ".jp-OutputArea-output:has([class*='nscale-'])"

_SCRIPT = """([roots, minimum]) => {
  const parse = c => {
    let m = c.match(/^rgba?\\(([^)]*)\\)$/), scale = 255;
    if (!m) { m = c.match(/^color\\(srgb ([^)]*)\\)$/); scale = 1; }
    if (!m) throw new Error('a colour the check cannot read: ' + c);
    const v = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [v[0] / scale, v[1] / scale, v[2] / scale, v.length > 3 ? v[3] : 1];
  };
  const mix = (a, b, t) => a.map((x, i) => x * (1 - t) + b[i] * t);  // t of b over a
  const over = (top, below) => mix(below, top.slice(0, 3), top[3]);
  const lum = c => {
    const [r, g, b] = c.map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  // The pixel the ancestors chain[i:] paint over `below`: the text's own, or just behind it.
  const paint = (chain, i, below, text) => {
    const s = getComputedStyle(chain[i]);
    let c = over(parse(s.backgroundColor), below);
    if (i + 1 < chain.length) c = paint(chain, i + 1, c, text);
    else if (text) c = over(parse(s.color), c);
    const o = Number(s.opacity);
    return o >= 1 ? c : mix(below, c, o);
  };
  const hex = c => '#' + c.map(v => Math.round(v * 255).toString(16).padStart(2, '0')).join('');
  const found = [...document.querySelectorAll(roots)];
  for (const root of found) root.querySelectorAll('details').forEach(d => { d.open = true; });
  const failures = [];
  let checked = 0;
  for (const root of found) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const el = node.parentElement;
      if (!node.data.trim() || !el || el.closest('style, script')) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      if (!range.getClientRects().length || !el.checkVisibility({visibilityProperty: true}))
        continue;
      const chain = [];
      for (let e = el; e; e = e.parentElement) chain.unshift(e);
      const canvas = [1, 1, 1];
      const fg = paint(chain, 0, canvas, true), bg = paint(chain, 0, canvas, false);
      const [a, b] = [lum(fg), lum(bg)];
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      checked += 1;
      if (ratio < minimum) {
        const owner = el.closest('[class*=nscale-]');
        failures.push({text: node.data.trim().slice(0, 40), ratio: Math.round(ratio * 100) / 100,
                       fg: hex(fg), bg: hex(bg), color: getComputedStyle(el).color,
                       where: owner ? owner.className : root.className});
      }
    }
  }
  return {outputs: found.length, checked, failures};
}"""


@dataclass(frozen=True)
class Reading:
    """What one page showed: outputs and text nodes checked, and those below the minimum."""

    outputs: int
    checked: int
    failures: list[dict[str, Any]]

    def low(self) -> list[tuple[str, float, str]]:
        """(text, ratio, where) of each failure, for an assertion message."""
        return [(f["text"], f["ratio"], f["where"]) for f in self.failures]


def contrast(page: Any, roots: str = OUTPUTS, minimum: float = 4.5) -> Reading:
    """Measure every visible text inside ``roots`` (a CSS selector) on ``page``."""
    found = page.evaluate(_SCRIPT, [roots, minimum])
    return Reading(found["outputs"], found["checked"], found["failures"])
