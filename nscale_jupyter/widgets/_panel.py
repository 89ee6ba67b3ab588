"""The sampling panel: one control per panel option, bound to the session's settings.

Controls are generated from the option table and linked both ways to the
one ``ChatSettings`` object, so the panel, ``%chat set`` and ``%config``
always agree. Live mode re-runs the prompt when a value changes (debounced,
cancelling the request in flight); replies stream into the panel without
touching the thread's history unless "keep" is pressed. The widgets never
hold the API key.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import ipywidgets as w

from .._compare import parse_values, run_compare
from .._events import StreamDone
from .._exceptions import NscaleError
from .._options import OPTIONS, Option, OptionError
from .._session import Session
from .._types import ChatResult, Message
from ..display._compare import compare_bundle
from ..display._escape import escape_html
from ..display._heatmap import HeatmapPart
from ..display._stream import ChatRenderer
from ..display._toolcard import ToolCardPart

__all__ = ["Panel"]

UNSET = "(unset)"
_CHOICES: dict[str, list[str]] = {
    "response_format": [UNSET, "text", "json_object"],
    "tool_choice": [UNSET, "auto", "none", "required"],
}
_SLIDER_MAX = {"max_tokens": 4096, "n": 8, "top_logprobs": 20}


class _Control:
    """One option's widget(s), linked both ways to a settings trait."""

    def __init__(self, opt: Option, settings: Any) -> None:
        self.opt = opt
        self.settings = settings
        self._syncing = False
        self.enabled = w.Checkbox(
            value=False, indent=False, layout=w.Layout(width="1.6em"), description_allow_html=False
        )
        self.value = self._make_value_widget()
        tip = opt.help + (f" Range {opt.range_text}." if opt.range_text else "")
        self.label = w.Label(opt.name, tooltip=tip, layout=w.Layout(width="10em"))
        self.value.tooltip = tip
        self.box = w.HBox([self.enabled, self.label, self.value])
        self.enabled.observe(lambda _: self._to_settings(), "value")
        self.value.observe(lambda _: self._to_settings(), "value")
        settings.observe(lambda _: self._from_settings(), opt.name)
        self._from_settings()

    def _make_value_widget(self) -> Any:
        opt = self.opt
        if opt.name in _CHOICES:
            return w.Dropdown(options=_CHOICES[opt.name][1:])
        if opt.kind == "float":
            lo = opt.minimum if opt.minimum is not None else 0.0
            hi = opt.maximum if opt.maximum is not None else 2.0
            return w.FloatSlider(
                value=max(lo, 0.01 if opt.exclusive_minimum else lo),
                min=lo,
                max=hi,
                step=0.05,
                readout_format=".2f",
                continuous_update=False,
            )
        if opt.kind == "int" and opt.name in _SLIDER_MAX:
            return w.IntSlider(
                value=max(1, int(opt.minimum or 0)),
                min=int(opt.minimum or 0),
                max=_SLIDER_MAX[opt.name],
                continuous_update=False,
            )
        if opt.kind == "int":
            return w.IntText(value=0)
        if opt.kind == "bool":
            return w.Checkbox(value=True, indent=False)
        return w.Text(placeholder="comma-separated" if opt.kind == "strs" else "")

    def _to_settings(self) -> None:
        if self._syncing:
            return
        value: Any = None
        if self.enabled.value:
            value = self.value.value
            if self.opt.kind == "strs":
                value = [v for v in (s.strip() for s in str(value).split(",")) if v] or None
            elif self.opt.kind == "float" and self.opt.exclusive_minimum and value <= 0:
                value = 0.01
        try:
            setattr(self.settings, self.opt.name, value)
        except Exception:  # a value the settings refuse: show the settings' value again
            self._from_settings()

    def _from_settings(self) -> None:
        value = getattr(self.settings, self.opt.name)
        self._syncing = True
        try:
            self.enabled.value = value is not None
            if value is not None:
                if self.opt.kind == "strs":
                    self.value.value = ", ".join(value)
                elif self.opt.name == "response_format" and isinstance(value, dict):
                    self.value.value = (
                        value.get("type", "text")
                        if value.get("type") in ("text", "json_object")
                        else "text"
                    )
                elif self.opt.name == "tool_choice" and not isinstance(value, str):
                    pass
                else:
                    self.value.value = value
        finally:
            self._syncing = False


class Panel:
    """``%chat panel``: controls, live mode, keep, compare."""

    def __init__(
        self,
        session: Session,
        *,
        debounce: float = 0.3,
        schedule: Callable[[float, Callable[[], None]], Any] | None = None,
    ) -> None:
        self.session = session
        self.settings = session.settings
        self.debounce = debounce
        self._schedule = schedule
        self._pending: Any = None  # the debounce timer
        self.task: asyncio.Task[Any] | None = None  # the live request in flight
        self.runs = 0
        self.last: ChatResult | None = None
        self._slots: list[str] = []  # the reply area: text, then tool cards, heatmap
        self.controls = {o.name: _Control(o, self.settings) for o in OPTIONS if o.panel}
        self.model = w.Dropdown(description="model", options=[], layout=w.Layout(width="26em"))
        self.refresh = w.Button(description="refresh models", icon="refresh")
        self.status = w.HTML()
        self.system = w.Textarea(
            placeholder="system prompt (optional)",
            value=self.settings.system or "",
            layout=w.Layout(width="100%"),
        )
        self.prompt = w.Textarea(placeholder="prompt", layout=w.Layout(width="100%"))
        last = session.last_prompt
        if last:
            self.prompt.value = last[-1].text
        self.live = w.ToggleButton(
            description="live",
            value=False,
            icon="bolt",
            tooltip="re-run the prompt when a value changes",
        )
        self.run_button = w.Button(description="run", button_style="primary")
        self.keep = w.Button(description="keep", tooltip="add this reply to the thread")
        self.reset = w.Button(description="reset to defaults")
        self.reply = w.HTML(layout=w.Layout(width="100%"))
        self.compare_spec = w.Text(value="temperature=0,0.7,1.5", description="compare")
        self.compare_button = w.Button(description="compare")
        self.compare_view = w.HTML()
        self.refresh.on_click(lambda _: self.load_models())
        self.run_button.on_click(lambda _: self.schedule_run(0.0))
        self.keep.on_click(lambda _: self.keep_reply())
        self.reset.on_click(lambda _: self.settings.reset())
        self.compare_button.on_click(lambda _: self._start(self.compare()))
        self.model.observe(self._model_chosen, "value")
        self.system.observe(lambda c: setattr(self.settings, "system", c["new"] or None), "value")
        names = [o.name for o in OPTIONS if o.panel] + ["model", "system"]
        self.settings.observe(self._changed, names)
        controls = w.VBox([c.box for c in self.controls.values()])
        tabs = w.Tab(children=[
            w.VBox([controls, self.system]),
            w.VBox([w.HBox([self.compare_spec, self.compare_button]), self.compare_view]),
        ])  # fmt: skip
        tabs.set_title(0, "sampling")
        tabs.set_title(1, "compare")
        self.widget = w.VBox([
            w.HBox([self.model, self.refresh, self.reset]), self.status, tabs, self.prompt,
            w.HBox([self.run_button, self.live, self.keep]), self.reply,
        ])  # fmt: skip
        self.load_models()

    # -- models ------------------------------------------------------------------------
    def load_models(self) -> None:
        try:
            models = self.session.models()
        except NscaleError as exc:
            self.status.value = (
                f"<span style='color:#c33'>cannot list models: {escape_html(str(exc))}</span>"
            )
            return
        self.status.value = ""
        current = self.settings.model
        self.model.options = models
        if current in models:
            self.model.value = current
        elif models:
            self.model.value = models[0]

    def _model_chosen(self, change: dict[str, Any]) -> None:
        if change["new"] and change["new"] != self.settings.model:
            self.settings.model = change["new"]

    # -- live mode ---------------------------------------------------------------------
    def _changed(self, change: dict[str, Any]) -> None:
        if change["name"] == "model" and change["new"] in self.model.options:
            self.model.value = change["new"]
        if change["name"] == "system" and (change["new"] or "") != self.system.value:
            self.system.value = change["new"] or ""
        if self.live.value:
            self.schedule_run(self.debounce)

    def schedule_run(self, delay: float) -> None:
        """Run after ``delay`` s; a newer change restarts the wait (debounce)."""
        if self._pending is not None:
            self._pending.cancel()
        if self._schedule is not None:
            self._pending = self._schedule(delay, self._run_now)
        else:
            self._pending = asyncio.get_event_loop().call_later(delay, self._run_now)

    def _run_now(self) -> None:
        self._pending = None
        self._start(self.run())

    def _start(self, coro: Any) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()  # only the newest settings' reply is shown
        self.task = asyncio.get_event_loop().create_task(coro)

    def _messages(self) -> list[Message]:
        thread = self.session.thread()
        return [*thread.history(), Message.user(self.prompt.value)]

    async def run(self) -> ChatResult | None:
        """Stream the prompt with the current settings into the panel."""
        if not self.prompt.value.strip():
            self.reply.value = "<i>write a prompt first</i>"
            return None
        self.runs += 1
        try:
            request = self.session.build_request(self._messages())
        except (NscaleError, OptionError) as exc:
            self.reply.value = f"<span style='color:#c33'>{escape_html(str(exc))}</span>"
            return None
        self._slots = []
        parts: list[Any] = [ToolCardPart(0)]
        if request.logprobs:
            parts.append(HeatmapPart(0))
        renderer = ChatRenderer(display=self._show, interval=0.05, parts=parts, inline_calls=False)
        try:
            async for item in self.session.events(request):
                renderer.feed(item)
                if isinstance(item, StreamDone):
                    self.last = item.result
        except NscaleError as exc:
            self.reply.value = f"<span style='color:#c33'>{escape_html(str(exc))}</span>"
            return None
        renderer.finish(self.last)
        return self.last

    def _show(self, bundle: dict[str, str]) -> Any:
        """A display handle writing into one slot of the reply area (text, cards, heatmap)."""
        slot = len(self._slots)
        self._slots.append("")
        panel = self

        class Handle:
            def update(self, obj: dict[str, str], raw: bool = True) -> None:
                html = obj.get("text/html")
                if html is None:  # the reply's Markdown, shown as (escaped) text
                    html = (
                        "<div style='white-space:pre-wrap'>"
                        f"{escape_html(obj.get('text/plain', ''))}</div>"
                    )
                panel._slots[slot] = html
                panel.reply.value = "".join(panel._slots)

        handle = Handle()
        handle.update(bundle)
        return handle

    def keep_reply(self) -> None:
        """Add the last live reply (and its prompt) to the current thread."""
        if self.last is None:
            return
        self.session.thread().record(
            [Message.user(self.prompt.value), self.last.choice.to_message()]
        )

    # -- compare -----------------------------------------------------------------------
    async def compare(self) -> None:
        try:
            name, values = parse_values(self.compare_spec.value)
            request = self.session.build_request(self._messages())
        except (OptionError, NscaleError) as exc:
            self.compare_view.value = f"<span style='color:#c33'>{escape_html(str(exc))}</span>"
            return
        self.compare_view.value = "<i>running…</i>"

        async def go() -> Any:
            client = await self.session._aclient()
            return await run_compare(client, request, name, values)

        future = asyncio.wrap_future(self.session.loop.submit(go()))
        with contextlib.suppress(asyncio.CancelledError):
            self.compare_view.value = compare_bundle(await future)["text/html"]
