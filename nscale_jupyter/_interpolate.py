"""``{name}`` interpolation of notebook variables into prompts.

Like IPython does for shell commands, but stricter, so prompts full of code
survive: only ``{expr}`` with no surrounding spaces, whose expression uses a
variable, is replaced; JSON, dict/set literals, comprehensions, TypeScript
blocks and LaTeX groups (``\\frac{a}{b}``, ``x^{2}``) are left alone. ``{{``
and ``}}`` stand for literal braces. An unknown name is an error, never a
silent blank.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["InterpolationError", "interpolate", "value_of"]

_CANDIDATE = re.compile(r"\{\{|\}\}|\{([^{}\s][^{}]*?)\}")
# A "{" glued to these is LaTeX (\frac{, x^{, a_{, }{) or code, not a placeholder.
_LATEX_BEFORE = re.compile(r"(\\[A-Za-z]+|[\^_}$\w])$")
#: What a placeholder may hold: names, attributes, subscripts and literals; never a
#: call or an operator, so ``{print('x')}`` or ``{open(p).read()}`` runs nothing.
_ALLOWED = (ast.Name, ast.Attribute, ast.Subscript, ast.Constant, ast.Load, ast.Slice,
            ast.Tuple, ast.UnaryOp, ast.USub, ast.UAdd)  # fmt: skip


class InterpolationError(ValueError):
    """A placeholder named something the namespace does not have, or raised."""


def _is_placeholder(source: str) -> ast.expr | None:
    if source != source.strip():
        return None
    try:
        tree = ast.parse(source, mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(tree, ast.Name | ast.Attribute | ast.Subscript):
        return None
    if not all(isinstance(node, _ALLOWED) for node in ast.walk(tree)):
        return None
    if not any(isinstance(node, ast.Name) for node in ast.walk(tree)):
        return None
    return tree


def value_of(placeholder: str, namespace: Mapping[str, Any]) -> Any:
    """The object a ``{expr}`` placeholder names (not its text): ``--image {fig}``."""
    source = placeholder[1:-1] if placeholder.startswith("{") else placeholder
    tree = _is_placeholder(source)
    if tree is None:
        raise InterpolationError(
            f"{{{source}}}: not a variable (a name, attribute or subscript; nothing is called)"
        )
    return _evaluate(source, tree, namespace)


def _evaluate(source: str, tree: ast.expr, namespace: Mapping[str, Any]) -> Any:
    try:
        return eval(compile(ast.Expression(tree), "<prompt>", "eval"), {}, dict(namespace))
    except NameError as exc:
        name = getattr(exc, "name", None) or source
        raise InterpolationError(
            f"{{{source}}}: no variable named {name!r} in the notebook "
            "(write {{ and }} for literal braces, or use --no-interpolate)"
        ) from None
    except Exception as exc:
        raise InterpolationError(f"{{{source}}}: {type(exc).__name__}: {exc}") from None


def interpolate(text: str, namespace: Mapping[str, Any]) -> str:
    """Replace ``{expr}`` placeholders with ``str(value)``; ``{{``/``}}`` become braces."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        source = match.group(1)
        if _LATEX_BEFORE.search(text[: match.start()]):
            return token
        tree = _is_placeholder(source)
        if tree is None:
            return token
        return str(_evaluate(source, tree, namespace))

    return _CANDIDATE.sub(replace, text)
