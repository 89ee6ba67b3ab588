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
#: Where a float slider ends when the table leaves the range open above.
_FLOAT_END = 2.0


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
        # The table's hints: the start (the API's own default, so ticking "set"
        # alone changes nothing), a slider's end, a free-text option's choices.
        start = opt.default if opt.default is not None else opt.start
        if opt.suggestions:
            return w.Dropdown(options=list(opt.suggestions))
        if opt.kind == "float":
            lo = opt.minimum if opt.minimum is not None else 0.0
            hi = opt.maximum if opt.maximum is not None else _FLOAT_END
            lowest = lo + 0.01 if opt.exclusive_minimum else lo
            return w.FloatSlider(
                value=min(hi, max(lowest, lo if start is None else start)),
                min=lo,
                max=hi,
                step=0.05,
                readout_format=".2f",
                continuous_update=False,
            )
        if opt.kind == "int" and opt.slider_max is not None:
            lo = int(opt.minimum or 0)
            return w.IntSlider(
                value=max(lo, int(start if start is not None else lo)),
                min=lo,
                max=int(opt.slider_max),
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
                self.value.value = kind if kind in self.opt.suggestions else "text"
            elif self.opt.name == "tool_choice":
                if isinstance(value, str) and value in self.opt.suggestions:
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
