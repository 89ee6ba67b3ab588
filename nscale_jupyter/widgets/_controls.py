"""One control per panel option of the option table, linked both ways to a settings trait.

Each row is a "set" checkbox (unchecked = unset, nothing sent), the option's
name with its help as a tooltip, and a value widget within the option's
range. Moving the value widget sets the option; a change made elsewhere
(``%chat set``, ``%config``, reset) shows in the row. The settings object is
the one source of truth: a value it refuses is replaced by its own.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from .._options import OPTIONS, Option

__all__ = ["UNSET", "Control", "controls"]

UNSET = "(unset)"
_CHOICES: dict[str, list[str]] = {
    "response_format": ["text", "json_object"],
    "tool_choice": ["auto", "none", "required"],
}
#: Slider ends for options whose range is open above (the table bounds the others).
_SLIDER_MAX = {"max_tokens": 4096, "n": 16, "top_logprobs": 20}
#: Where a value widget starts: the API's own default, so ticking "set" alone changes nothing.
_NEUTRAL: dict[str, Any] = {
    "temperature": 1.0,
    "top_p": 1.0,
    "frequency_penalty": 0.0,
    "presence_penalty": 0.0,
    "n": 1,
    "top_logprobs": 1,
    "seed": 0,
}


def _tip(opt: Option) -> str:
    return opt.help + (f" Range {opt.range_text}." if opt.range_text else "")


class Control:
    """One option's row: a "set" checkbox, a label with help, a value widget."""

    def __init__(self, opt: Option, settings: Any) -> None:
        self.opt = opt
        self.settings = settings
        self._syncing = False
        tip = _tip(opt)
        self.enabled = w.Checkbox(
            value=False,
            indent=False,
            tooltip=f"send {opt.name} (unchecked: unset, not sent)",
            layout=w.Layout(width="1.6em"),
        )
        self.value = self._make_value_widget()
        self.value.tooltip = tip
        self.label = w.Label(opt.name, tooltip=tip, layout=w.Layout(width="10em"))
        self.box = w.HBox([self.enabled, self.label, self.value])
        self.enabled.observe(lambda _: self._to_settings(), "value")
        self.value.observe(lambda _: self._value_moved(), "value")
        settings.observe(lambda _: self._from_settings(), opt.name)
        self._from_settings()

    def _make_value_widget(self) -> Any:
        opt = self.opt
        start = opt.default if opt.default is not None else _NEUTRAL.get(opt.name)
        if opt.name in _CHOICES:
            return w.Dropdown(options=_CHOICES[opt.name])
        if opt.kind == "float":
            lo = opt.minimum if opt.minimum is not None else 0.0
            hi = opt.maximum if opt.maximum is not None else 2.0
            lowest = lo + 0.01 if opt.exclusive_minimum else lo
            return w.FloatSlider(
                value=min(hi, max(lowest, lo if start is None else start)),
                min=lo,
                max=hi,
                step=0.05,
                readout_format=".2f",
                continuous_update=False,
            )
        if opt.kind == "int" and opt.name in _SLIDER_MAX:
            lo = int(opt.minimum or 0)
            return w.IntSlider(
                value=max(lo, int(start if start is not None else lo)),
                min=lo,
                max=int(opt.maximum if opt.maximum is not None else _SLIDER_MAX[opt.name]),
                continuous_update=False,
            )
        if opt.kind == "int":
            return w.IntText(value=int(start or 0))
        if opt.kind == "bool":
            return w.Checkbox(value=True, indent=False)
        return w.Text(placeholder="comma-separated" if opt.kind == "strs" else "")

    def _value_moved(self) -> None:
        if self._syncing:
            return
        if not self.enabled.value:
            self.enabled.value = True  # moving a control sets its option (the checkbox sends it)
            return
        self._to_settings()

    def wanted(self) -> Any:
        """The API value the row asks for (None when unset)."""
        if not self.enabled.value:
            return None
        value = self.value.value
        if self.opt.kind == "strs":
            return [v for v in (s.strip() for s in str(value).split(",")) if v] or None
        if self.opt.kind == "float" and self.opt.exclusive_minimum:
            return max(value, (self.opt.minimum or 0.0) + 0.01)
        return value

    def _to_settings(self) -> None:
        if self._syncing:
            return
        try:
            setattr(self.settings, self.opt.name, self.wanted())
        except Exception:  # a value the settings refuse: show the settings' value again
            self._from_settings()

    def _from_settings(self) -> None:
        value = getattr(self.settings, self.opt.name)
        self._syncing = True
        try:
            self.enabled.value = value is not None
            if value is None:
                return
            if self.opt.kind == "strs":
                self.value.value = ", ".join(value)
            elif self.opt.name == "response_format":
                kind = value.get("type") if isinstance(value, dict) else value
                self.value.value = kind if kind in _CHOICES["response_format"] else "text"
            elif self.opt.name == "tool_choice":
                if isinstance(value, str) and value in _CHOICES["tool_choice"]:
                    self.value.value = value
            else:
                if hasattr(self.value, "max") and value > self.value.max:
                    self.value.max = value  # a larger value set elsewhere: widen, don't clamp
                self.value.value = value
        finally:
            self._syncing = False


def controls(settings: Any) -> dict[str, Control]:
    """A control for every ``panel=True`` option, in table order."""
    return {o.name: Control(o, settings) for o in OPTIONS if o.panel}
