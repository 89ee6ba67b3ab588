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
from collections.abc import Callable
from typing import Any

import ipywidgets as w

from .._api import abranch
from .._branching import Branch
from .._compare import parse_values
from .._exceptions import NscaleError
from .._options import OPTIONS, OptionError
from .._results import ChatResult
from .._session import Session
from .._tools import ToolSchemaError
from .._turn import TurnSpec
from .._turn_events import TurnOutcome
from .._types import Message
from ..display._branch import branch_html
from ..display._colours import error_html
from ..display._compare import compare_bundle
from ..display._escape import escape_html
from ..display._static import show_widget
from ..display._turn import TurnRenderer
from ._controls import controls
from ._prompt_images import PromptImages
from ._reply import ReplyArea
from ._snapshot import Snapshot, panel_snapshot
from ._whatif import WhatIf

__all__ = ["Panel"]

_WATCHED = [o.name for o in OPTIONS if o.panel] + ["model", "system"]
#: The model entry that sends no model setting (the server's only model is used).
_DEFAULT = "(server's default)"


def _loop() -> asyncio.AbstractEventLoop:
    """The kernel's loop: widget callbacks run on its thread, between its tasks."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.get_event_loop_policy().get_event_loop()


def _error(exc: object) -> str:
    return error_html(str(exc))


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
        self.compare_task: asyncio.Task[Any] | None = None
        self.runs = 0
        self.last: ChatResult | None = None
        self._kept: TurnOutcome | None = None  # the run "keep" would record
        self._models: list[str] = []
        self._sent = ""  # the readout's text: what the next request sends
        self.snapshot_view = Snapshot(self.snapshot)
        self._asked = ("", "")  # the options and prompt of the reply shown
        self._compared = ""  # the last comparison's HTML
        self._listing = False
        self.controls = controls(self.settings)
        self.model = w.Dropdown(
            description="model", options=[(_DEFAULT, "")], layout=w.Layout(width="26em")
        )
        self.refresh = w.Button(description="refresh models", icon="refresh")
        self.status = w.HTML()
        self.readout = w.HTML()
        self.system = w.Textarea(
            placeholder="system prompt (optional; also the default for new threads)",
            value=self.settings.system or "",
            layout=w.Layout(width="100%"),
        )
        self.prompt = w.Textarea(placeholder="prompt", layout=w.Layout(width="100%"))
        self.images = PromptImages()
        self._fill_prompt()
        self.live = w.ToggleButton(
            description="live",
            value=False,
            icon="bolt",
            tooltip="re-run the prompt when a value changes",
        )
        self.run_button = w.Button(description="run", button_style="primary")
        self.keep = w.Button(
            description="keep", tooltip="add this reply to the thread", disabled=True
        )
        self.reset = w.Button(description="reset to defaults")
        # An Output widget, so the reply's Markdown renders as it does in a cell.
        self.area = ReplyArea()
        self.reply = self.area.output
        self.compare_spec = w.Text(
            value="temperature=0,0.7,1.5",
            description="compare",
            tooltip="FIELD=V1,V2,... any request field, e.g. model=a,b",
        )
        self.concurrency = w.BoundedIntText(
            value=4, min=1, max=16, description="at once", layout=w.Layout(width="9em")
        )
        self.compare_button = w.Button(description="compare")
        self.compare_view = w.HTML()
        self.branch_task: asyncio.Task[Any] | None = None
        self.whatif = WhatIf(
            self.settings, on_sample=lambda: self.schedule_run(0.0), on_branch=self.start_branch
        )
        self.refresh.on_click(lambda _: self.load_models())
        self.run_button.on_click(lambda _: self.schedule_run(0.0))
        self.keep.on_click(lambda _: self.keep_reply())
        self.reset.on_click(lambda _: self.settings.reset())
        self.compare_button.on_click(lambda _: self.start_compare())
        self.model.observe(self._model_chosen, "value")
        self.system.observe(lambda c: setattr(self.settings, "system", c["new"] or None), "value")
        self.settings.observe(self._changed, _WATCHED)
        tabs = w.Tab(children=[
            w.VBox([*(c.box for c in self.controls.values()), self.system]),
            w.VBox([
                w.HBox([self.compare_spec, self.concurrency, self.compare_button]),
                self.compare_view,
            ]),
        ])  # fmt: skip
        tabs.set_title(0, "sampling")
        tabs.set_title(1, "compare")
        self.widget = w.VBox([
            w.HBox([self.model, self.refresh, self.reset]), self.status, tabs, self.readout,
            self.prompt, self.images.box, w.HBox([self.run_button, self.live, self.keep]),
            self.reply,
            self.whatif.box,
        ])  # fmt: skip
        for widget, name in [
            (self.widget, "nscale-panel"),
            (self.status, "nscale-panel-status"),
            (self.readout, "nscale-panel-readout"),
            (self.reply, "nscale-panel-reply"),
            (self.compare_view, "nscale-panel-compare"),
        ]:
            widget.add_class(name)  # stable hooks for styling and browser tests
        self._show_readout()
        self.load_models()

    # -- models ------------------------------------------------------------------------
    def load_models(self) -> None:
        """List the server's models; the setting is shown, never changed, by listing."""
        try:
            models = self.session.models()
        except NscaleError as exc:
            self.status.value = _error(f"cannot list models: {exc}")
            models = []
        else:
            self.status.value = ""
        self._models = models
        self._show_model(self.settings.model)

    def _show_model(self, current: str | None) -> None:
        """The dropdown: the server's default, the listed models, and the setting if unlisted."""
        listed = self._models
        default = f"(server's: {listed[0]})" if len(listed) == 1 else _DEFAULT
        options = [(default, ""), *((m, m) for m in listed)]
        if current and current not in listed:
            options.append((f"{current} (not listed)", current))
        self._listing = True  # the dropdown follows the setting: it does not set it
        try:
            self.model.options = options
            self.model.value = current or ""
        finally:
            self._listing = False

    def _model_chosen(self, change: dict[str, Any]) -> None:
        if self._listing:
            return
        chosen = change["new"] or None
        if chosen != self.settings.model:
            self.settings.model = chosen

    # -- settings -> panel ---------------------------------------------------------------
    def _changed(self, change: dict[str, Any]) -> None:
        if change["name"] == "model" and (change["new"] or "") != self.model.value:
            self._show_model(change["new"])
        if change["name"] == "system" and (change["new"] or "") != self.system.value:
            self.system.value = change["new"] or ""
        self._show_readout()
        if self.live.value:
            self.schedule_run(self.debounce)

    def _show_readout(self) -> None:
        """One line of what the next request sends (unset options are not sent)."""
        try:
            values = self.settings.request_options()
        except OptionError as exc:
            self.readout.value = _error(exc)
            self._sent = str(exc)
        else:
            shown = [f"{k}={v!r}" for k, v in values.items() if k in _WATCHED and k != "model"]
            self._sent = " · ".join(shown) or "nothing set: the server's defaults"
            self.readout.value = (
                f"<code style='font-size:85%'>options sent: {escape_html(self._sent)}</code>"
            )

    # -- the static snapshot -------------------------------------------------------------
    def show(self) -> None:
        """Display the panel, and beside it its snapshot (for pages with no kernel)."""
        show_widget(
            self.widget,
            "nscale panel: its controls show in a running notebook; "
            "a snapshot of its settings and last reply follows",
        )
        self.snapshot_view.show()

    def _options(self) -> str:
        model = f"model={self.settings.model!r} · " if self.settings.model else ""
        return model + self._sent

    def snapshot(self) -> dict[str, str]:
        """The panel as a page with no widgets shows it: the last reply and what it asked."""
        slots = self.area.slots
        options, prompt = self._asked if slots else (self._options(), self._prompt_text())
        whatif = self.whatif.static_html() if slots else ""
        return panel_snapshot(options, prompt, slots, self._compared, whatif)

    # -- live mode ---------------------------------------------------------------------
    def schedule_run(self, delay: float) -> None:
        """Run after ``delay`` s; a newer change restarts the wait (debounce)."""
        if self._pending is not None:
            self._pending.cancel()
        if self._schedule is not None:
            self._pending = self._schedule(delay, self._run_now)
        else:
            self._pending = _loop().call_later(delay, self._run_now)

    def _run_now(self) -> None:
        self._pending = None
        if self.task is not None and not self.task.done():
            self.task.cancel()  # only the newest settings' reply is shown
        self.task = _loop().create_task(self.run())

    def _fill_prompt(self) -> None:
        """An empty prompt box takes the last prompt the session sent (the last ``%%chat``),
        its images too."""
        last = self.session.last_request
        users = [m for m in last.messages if m.role == "user"] if last is not None else []
        if self.prompt.value.strip() or self.images.parts or not users:
            return
        self.prompt.value = users[-1].text
        self.images.set(users[-1].images)

    def _prompt_text(self) -> str:
        return str(self.prompt.value) + self.images.text()

    def _spec(self) -> TurnSpec:
        """This panel's turn: the prompt in the current thread, not recorded until "keep".

        Re-running the thread's last prompt resends the history before that
        turn, so the model sees the question once, as the first time.
        """
        self._fill_prompt()
        return TurnSpec(
            (Message.prompt(self.prompt.value, self.images.parts),),
            thread=self.session.current,
            record=False,
            rerun=True,
        )

    async def run(self) -> ChatResult | None:
        """Run the prompt with the current settings as a turn, streaming into the panel."""
        spec = self._spec()
        self._asked = (self._options(), self._prompt_text())
        if not self.prompt.value.strip() and not self.images.parts:
            self._say("<i>write a prompt first</i>")
            return None
        self.runs += 1
        try:
            turn = self.session.turn(spec)
        except (OptionError, ToolSchemaError, KeyError) as exc:
            self._say(_error(exc))
            return None
        self.area.clear()
        renderer = TurnRenderer(display=self.area.show, interval=0.05, metadata=True)
        async for event in turn:
            renderer.feed(event)
        outcome = turn.outcome
        if outcome is None:  # cancelled by a newer run
            return None
        if outcome.error is not None:
            if outcome.result is None:
                self._say(_error(outcome.error))
            else:
                self.area.append({"text/html": _error(outcome.error)})
                self.snapshot_view.update()
            return None
        self.last, self._kept = outcome.result, outcome
        self.keep.disabled = False
        self.whatif.show(outcome.result)
        self.snapshot_view.update()
        return outcome.result

    def _say(self, html: str) -> None:
        """A message in place of the reply (errors, hints); ``html`` is already escaped."""
        self.area.say(html)
        self.snapshot_view.update()

    @property
    def reply_markup(self) -> str:
        """What the reply area shows, as the Markdown/HTML it renders (escaped model text)."""
        return self.area.markup

    def keep_reply(self) -> None:
        """Make the last panel run part of the thread.

        A re-run of the thread's last prompt replaces that turn; a new prompt
        adds a turn. Keeping twice changes nothing.
        """
        if self._kept is not None:
            self.session.keep(self._kept)
            self._kept = None

    # -- branch (the what-if's alternatives) ----------------------------------------------
    def start_branch(self, position: int, alternative: int) -> None:
        if self.branch_task is not None and not self.branch_task.done():
            self.branch_task.cancel()
        self.branch_task = _loop().create_task(self.branch(position, alternative))

    async def branch(self, position: int, alternative: int) -> Branch | None:
        """Continue the last reply with another token at ``position``, shown beside it."""
        view = self.whatif.branch_view
        if self.last is None:
            return None
        view.value = "<i>branching…</i>"
        try:
            made = await abranch(self.last, position, alternative, session=self.session)
        except NscaleError as exc:  # BranchError too: one line naming the cause
            view.value = _error(exc)
            return None
        view.value = branch_html(made)
        return made

    # -- compare -----------------------------------------------------------------------
    def start_compare(self) -> None:
        if self.compare_task is not None and not self.compare_task.done():
            self.compare_task.cancel()
        self.compare_task = _loop().create_task(self.compare())

    async def compare(self) -> None:
        """The prompt once per value of one field, side by side, at most N at a time."""
        try:
            name, values = parse_values(self.compare_spec.value)
        except OptionError as exc:
            self.compare_view.value = _error(exc)
            return
        self.compare_view.value = "<i>running…</i>"
        compared = self.session.acompare(
            self._spec(), name, values, concurrency=self.concurrency.value
        )
        try:
            self._compared = compare_bundle(await compared)["text/html"]
            self.compare_view.value = self._compared
            self.snapshot_view.update()
        except (OptionError, NscaleError, ToolSchemaError, KeyError) as exc:
            self.compare_view.value = _error(exc)
        except asyncio.CancelledError:
            pass
