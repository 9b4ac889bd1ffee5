"""The workshop in front of a room: one question per screen, a timer in view, live tables.

``csi workshop CYCLE_DIR`` serves ``notebooks/workshop.ipynb`` with Voilà; the
notebook shows one :class:`Presenter`. At the top, the cycle and a progress
strip of the seven questions (the current one lit, the ones done marked; a
click goes there); in the middle, the question on screen; at the bottom, pinned
to the window, "Previous", the question's timer (time left in large figures,
"Start" / "Pause", "+5 min", "Restart") and "Next". Each question keeps its
own clock: leaving a question pauses it, coming back shows what was left.

Three views, chosen by the page's address (Voilà gives the kernel the query
string in ``$QUERY_STRING``):

* ``presenter`` (the default): one screen for everything, the facilitator
  drives the projected page; no analyst details, no notes;
* ``facilitator`` (``?view=facilitator``, the laptop of the facilitator): the
  same with the facilitator's note of each question;
* ``room`` (``?view=room``, the projector): what the room sees, no controls;
  it follows the facilitator's page (question, timer) through the workshop's
  runtime folder (:mod:`csi_lib.workshop.room`) and redraws what was saved.

Live state: every save (votes, a decision, a target) redraws at once what
depends on it on the page (the register and its votes, every list of
decisions, the targets, progress, results and next cycle); a room view notices
the files changing on its next tick (one second) and redraws them too.

Examples
--------
>>> from csi_lib.widgets.presenter import Presenter
>>> from csi_lib.workshop import settings
>>> p = Presenter(open_cycle(cycle_dir, as_of="2026-04-15"), settings(cycle_dir, participants=12))
>>> p.question, p.step_buttons[0].description, len(p.voting.people)
(0, '0 Vision', 12)
>>> p.next(); p.question, p.clock_html.value
(1, '15:00')
"""

from __future__ import annotations

import dataclasses
import html
import os
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as w
from IPython.display import display

from .. import workshop as wsx
from ..errors import CsiError
from ..workshop import QUESTIONS, Clock, RoomState, format_clock
from . import screens
from .decisions import DecisionLog
from .status import error_html, in_words
from .voting import DotVoting
from .whatif import WhatIf

__all__ = ["Presenter", "VIEWS", "view_from_query", "EXTEND_S"]

#: The views of the workshop page (see the module's notes).
VIEWS: tuple[str, ...] = ("presenter", "facilitator", "room")
#: Seconds added by "+5 min".
EXTEND_S = 300
#: Seconds between two redraws of the clock (and looks at the other pages).
TICK_S = 1.0
#: Charts in front of a room: text of 18 px at the least.
ROOM_FIGURE: dict[str, Any] = {"font": {"size": 18}, "title": {"font": {"size": 22}}}
_CSS = Path(__file__).resolve().parents[1] / "assets" / "workshop.css"


def view_from_query(query: str | None) -> str:
    """The view named by a page's query string (``view=room``), ``presenter`` by default.

    Examples
    --------
    >>> view_from_query("token=abc&view=room"), view_from_query(""), view_from_query("view=x")
    ('room', 'presenter', 'presenter')
    """
    chosen = urllib.parse.parse_qs(query or "").get("view", ["presenter"])[-1]
    return chosen if chosen in VIEWS else "presenter"


def _html(value: str = "", *classes: str, **layout: Any) -> w.HTML:
    widget = w.HTML(value, layout=layout) if layout else w.HTML(value)
    for name in classes:
        widget.add_class(name)
    return widget


def _button(description: str, action: Callable[[], Any], **style: Any) -> w.Button:
    button = w.Button(description=description, layout={"width": "auto"}, **style)
    button.on_click(lambda _b: action())
    return button


class Presenter:
    """The workshop page of a cycle.

    Parameters
    ----------
    cycle:
        The :class:`~csi_lib.cycle.Cycle` (opened with the workshop's ``as_of``).
    settings:
        The workshop's :class:`~csi_lib.workshop.Settings` (timeboxes, dots, participants).
    view:
        ``presenter``, ``facilitator`` or ``room``; default: the page's address.
    shared:
        Share the question and the timers with the other pages of the workshop
        (through the runtime folder); default: when ``csi workshop`` serves it.

    Attributes
    ----------
    widget:
        The ``VBox`` to display.
    question:
        The number of the question on screen (0-6).
    clocks:
        Each question's :class:`~csi_lib.workshop.Clock`.
    """

    def __init__(
        self,
        cycle: Any,
        settings: Any,
        *,
        view: str | None = None,
        shared: bool | None = None,
    ) -> None:
        from ..review import assess

        self.cycle = cycle
        self.settings = settings
        self.view = view or view_from_query(os.environ.get("QUERY_STRING"))
        self.controls = self.view != "room"
        self.shared = bool(os.environ.get(wsx.ENV_RUNTIME)) if shared is None else shared
        self.review = assess(cycle)
        fresh = RoomState.fresh(settings.minutes)
        saved = wsx.read_state(cycle.dir) if self.shared else None
        state = saved if saved is not None and set(saved.clocks) == set(fresh.clocks) else fresh
        self.question = state.question if self.view == "room" or saved else 0
        self.clocks: dict[int, Clock] = state.clocks
        self._state_ns = wsx.room.state_stamp(cycle.dir) if self.shared else 0
        self._saved = wsx.saved_stamp(cycle.dir)
        self._refreshers: dict[str, list[Callable[[], None]]] = {
            "targets": [],
            "votes": [],
            "decisions": [],
        }
        self.decision_logs: list[DecisionLog] = []
        self.voting: DotVoting | None = None
        self.whatif: WhatIf | None = None
        self.status = _html("", "csi-status")
        self.panels = [self._panel(q) for q in QUESTIONS]
        self.stage = w.Box([self.panels[self.question]], layout={"width": "100%"})
        self.stage.add_class("csi-stage")
        self.widget = w.VBox(
            [self._style(), self._topbar(), self.stage, self._bottombar()],
            layout={"width": "100%"},
        )
        self.widget.add_class("csi-presenter")
        self.widget.add_class(f"csi-view-{self.view}")
        self._show()
        self._start_ticking()

    # ------------------------------------------------------------------ building

    @staticmethod
    def _style() -> w.HTML:
        return _html(f"<style>{_CSS.read_text(encoding='utf-8')}</style>", "csi-style")

    def _topbar(self) -> w.HBox:
        cfg = self.cycle.config
        title = _html(html.escape(str(cfg.title or cfg.id)), "csi-cycle-title")
        self.step_buttons = []
        for q in QUESTIONS:
            button = w.Button(
                description=f"{q.number} {q.short}",
                tooltip=f"{q.number}. {q.title}",
                disabled=not self.controls,
                layout={"width": "auto"},
            )
            button.add_class("csi-step")
            button.on_click(lambda _b, n=q.number: self.go(n))
            self.step_buttons.append(button)
        strip = w.HBox(self.step_buttons)
        strip.add_class("csi-strip")
        bar = w.HBox([title, strip], layout={"width": "100%"})
        bar.add_class("csi-topbar")
        return bar

    def _bottombar(self) -> w.HBox:
        self.clock_html = _html("", "csi-clock")
        self.clock_note = _html("", "csi-clock-note")
        parts: list[w.Widget] = [self.clock_html, self.clock_note]
        if self.controls:
            self.toggle_button = _button("Start", self.toggle, icon="play", button_style="success")
            self.extend_button = _button("+5 min", self.extend, tooltip="Add five minutes")
            self.restart_button = _button(
                "Restart", self.restart, icon="undo", tooltip="Back to the whole timebox"
            )
            self.toggle_button.add_class("csi-timer-toggle")
            parts += [self.toggle_button, self.extend_button, self.restart_button]
        timer = w.HBox(parts)
        timer.add_class("csi-timer")
        if not self.controls:
            bar = w.HBox([timer], layout={"width": "100%"})
        else:
            self.prev_button = _button("Previous", self.previous, icon="arrow-left")
            self.next_button = _button(
                "Next", self.next, icon="arrow-right", button_style="primary"
            )
            self.prev_button.add_class("csi-prev")
            self.next_button.add_class("csi-next")
            bar = w.HBox([self.prev_button, timer, self.next_button], layout={"width": "100%"})
        bar.add_class("csi-bottombar")
        return bar

    def _panel(self, q: Any) -> w.VBox:
        """The screen of one question: its title, its content, its decisions."""
        head = _html(
            f"<h1>{q.number}. {html.escape(q.title)}</h1><p class='csi-asks'>{html.escape(q.asks)}</p>",
            "csi-question-title",
        )
        children: list[w.Widget] = [head]
        if self.view == "facilitator":
            children.append(_html(f"<div class='csi-note'>{html.escape(q.note)}</div>"))
        builder = getattr(self, f"_content_{q.number}")
        try:
            children.append(builder())
        except CsiError as exc:  # one question that cannot be shown leaves the others working
            children.append(_html(error_html(in_words(exc))))
        log = DecisionLog(self.cycle.dir, stage=q.number, controls=self.controls)
        log.on_recorded.append(lambda: self.refresh("decisions"))
        self.decision_logs.append(log)
        self._refreshers["decisions"].append(log.refresh)
        children += [_html("<h3>Decisions</h3>"), log.widget]
        panel = w.VBox(children, layout={"width": "100%"})
        panel.add_class("csi-question")
        panel.add_class(f"csi-question-{q.number}")
        return panel

    def _live_html(self, kind: str | None, render: Callable[[], str], *classes: str) -> w.HTML:
        """An HTML block drawn by ``render`` and redrawn when ``kind`` is saved."""
        block = _html("", *classes)

        def draw() -> None:
            try:
                block.value = render()
            except CsiError as exc:
                block.value = error_html(in_words(exc))

        draw()
        if kind is not None:
            self._refreshers[kind].append(draw)
        return block

    def _parts(self, parts: list[tuple[str, w.Widget]]) -> w.VBox:
        """Sub-screens of a question, picked with buttons (one shown at a time)."""
        names = [name for name, _ in parts]
        picker = w.ToggleButtons(options=names, value=names[0], style={"button_width": "auto"})
        picker.add_class("csi-parts")
        box = w.Box([parts[0][1]], layout={"width": "100%"})
        lookup = dict(parts)
        picker.observe(lambda c: setattr(box, "children", [lookup[c["new"]]]), names="value")
        return w.VBox([picker, box], layout={"width": "100%"})

    def _figure(self, make: Callable[[], Any], kind: str | None) -> w.Output:
        out = w.Output(layout={"width": "100%"})

        def draw() -> None:
            from IPython import get_ipython

            if get_ipython() is None:  # no kernel (tests, scripts): nothing to draw into
                return
            out.clear_output(wait=True)
            with out:
                try:
                    display(make())
                except CsiError as exc:
                    display(w.HTML(error_html(in_words(exc))))

        draw()
        if kind is not None:
            self._refreshers[kind].append(draw)
        return out

    # the content of each question ------------------------------------------------------

    def _content_0(self) -> w.Widget:
        return self._live_html(None, lambda: screens.vision_html(self.cycle))

    def _content_1(self) -> w.Widget:
        return self._live_html(
            None, lambda: screens.scorecard_html(self.cycle.baseline_snapshot().kpi_values)
        )

    def _content_2(self) -> w.Widget:
        table = self._live_html("targets", lambda: screens.targets_html(self.cycle), "csi-targets")
        if not self.controls:
            return table
        self.whatif = WhatIf.for_cycle(self.cycle)
        self.whatif.figure_layout = ROOM_FIGURE
        self.whatif.refresh()
        self.whatif.on_saved.append(lambda _t: self.refresh("targets"))
        return self._parts([("The targets", table), ("What if?", self.whatif.widget)])

    def _content_3(self) -> w.Widget:
        from ..charts.planning import roadmap_figure

        register = self._live_html("votes", lambda: screens.register_html(self.cycle.plan))
        roadmap = self._figure(
            lambda: roadmap_figure(
                self.cycle.plan, self.cycle.targets, today=self.cycle.as_of
            ).update_layout(ROOM_FIGURE),
            "targets",
        )
        parts = [("Register", register), ("Roadmap", roadmap)]
        if self.controls:
            self.voting = DotVoting(
                self.cycle.dir / "plan.yaml",
                dots=self.settings.dots,
                participants=self.settings.participants,
            )
            self.voting.on_saved.append(lambda _totals: self.refresh("votes"))
            parts.insert(1, ("Vote", self.voting.widget))
        return self._parts(parts)

    def _content_4(self) -> w.Widget:
        return self._live_html("targets", lambda: screens.progress_html(self.review))

    def _content_5(self) -> w.Widget:
        return self._live_html("targets", lambda: screens.results_html(self.review))

    def _content_6(self) -> w.Widget:
        return self._live_html("targets", lambda: screens.next_cycle_html(self.review))

    # ------------------------------------------------------------------ navigation

    def go(self, number: int) -> None:
        """Show question ``number``; the question left has its clock paused."""
        number = max(0, min(len(QUESTIONS) - 1, int(number)))
        if number != self.question:
            self.clocks[self.question].pause()
            self.question = number
        self._changed()

    def next(self) -> None:
        self.go(self.question + 1)

    def previous(self) -> None:
        self.go(self.question - 1)

    # ------------------------------------------------------------------ timer

    @property
    def clock(self) -> Clock:
        """The clock of the question on screen."""
        return self.clocks[self.question]

    def toggle(self) -> None:
        """Start the question's clock, or pause it when it runs."""
        if self.clock.running:
            self.clock.pause()
        elif not self.clock.is_up():
            self.clock.start()
        self._changed()

    def extend(self, seconds: float = EXTEND_S) -> None:
        self.clock.extend(seconds)
        self._changed()

    def restart(self) -> None:
        self.clock.reset()
        self._changed()

    # ------------------------------------------------------------------ state and display

    def _changed(self) -> None:
        """Show the state, and share it with the other pages of the workshop."""
        if self.shared and self.controls:
            wsx.write_state(self.cycle.dir, RoomState(self.question, self.clocks))
            self._state_ns = wsx.room.state_stamp(self.cycle.dir)
        self._show()

    def _show_question(self) -> None:
        """The question's screen, and the progress strip lit at it."""
        if self.stage.children[0] is not self.panels[self.question]:
            self.stage.children = [self.panels[self.question]]
        for q, button in zip(QUESTIONS, self.step_buttons, strict=True):
            button.remove_class("csi-current")
            button.remove_class("csi-done")
            if q.number == self.question:
                button.add_class("csi-current")
            elif q.number < self.question:
                button.add_class("csi-done")

    def _show(self) -> None:
        self._show_question()
        if self.controls:
            self.prev_button.disabled = self.question == 0
            self.next_button.disabled = self.question == len(QUESTIONS) - 1
            running = self.clock.running
            self.toggle_button.description = "Pause" if running else "Start"
            self.toggle_button.icon = "pause" if running else "play"
            self.toggle_button.button_style = "warning" if running else "success"
            self.toggle_button.disabled = self.clock.is_up()
        self._draw_clock()

    def _draw_clock(self) -> None:
        clock = self.clock
        left = clock.left()
        minutes = clock.seconds / 60
        self.clock_html.remove_class("csi-up")
        self.clock_html.remove_class("csi-last-minute")
        if clock.is_up():
            self.clock_html.value = "0:00"
            self.clock_html.add_class("csi-up")
            note = "time is up"
        else:
            self.clock_html.value = format_clock(left)
            if left <= 60:
                self.clock_html.add_class("csi-last-minute")
            state = "running" if clock.running else "paused"
            note = f"left of {minutes:g} min, {state}"
        self.clock_note.value = note

    def _start_ticking(self) -> None:
        """Call :meth:`_tick` once a second on the kernel's event loop (none outside a kernel).

        The tick runs in the kernel, so a page reloaded while a clock runs shows it
        running; it sends the page something only when what it shows changes (the
        time left of a running clock, a question or a file another page changed), so a
        kernel whose page vanished goes idle, and is culled, once the clocks stop.
        """
        import asyncio

        from IPython import get_ipython

        if get_ipython() is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return

        def every_second() -> None:
            try:
                self._tick()
            finally:
                loop.call_later(TICK_S, every_second)

        loop.call_later(TICK_S, every_second)

    def _tick(self) -> None:
        """One tick (a second): redraw the clock; a room view follows the other pages."""
        if self.shared and not self.controls:
            self._follow()
        elif self.controls and self.clock.running and self.clock.is_up():
            self.clock.pause()
            self._changed()
            return
        self._look_for_saves()
        self._draw_clock()

    def _follow(self) -> None:
        stamp = wsx.room.state_stamp(self.cycle.dir)
        if stamp == self._state_ns:
            return
        self._state_ns = stamp
        state = wsx.read_state(self.cycle.dir)
        if state is None or set(state.clocks) != set(self.clocks):
            return
        self.clocks = state.clocks
        self.question = state.question
        self._show_question()

    def _look_for_saves(self) -> None:
        """Redraw what depends on a file another page saved."""
        now = wsx.saved_stamp(self.cycle.dir)
        kinds = {
            "plan.yaml": "votes",
            "targets.yaml": "targets",
            "decisions.md": "decisions",
        }
        changed = [kinds[name] for name, ns in now.items() if ns != self._saved.get(name)]
        if changed:
            self.refresh(*changed)

    def refresh(self, *kinds: str) -> None:
        """Redraw what depends on ``kinds`` (``votes``, ``decisions``, ``targets``) from the files."""
        self._saved = wsx.saved_stamp(self.cycle.dir)
        if "votes" in kinds or "targets" in kinds:
            self._reload()
        for kind in kinds:
            for draw in self._refreshers.get(kind, []):
                draw()

    def _reload(self) -> None:
        """Read the cycle's targets and plan again (the data stay loaded), and review them."""
        from ..plan import load_plan
        from ..review import assess
        from ..targets import load_targets

        try:
            targets = load_targets(self.cycle.dir / "targets.yaml")
            plan = load_plan(self.cycle.dir / "plan.yaml")
        except CsiError as exc:
            self.status.value = error_html(in_words(exc))
            return
        loaded = self.cycle.__dict__.get("load")  # the cached requests, kept
        cycle = dataclasses.replace(self.cycle, targets=targets, plan=plan)
        if loaded is not None:
            cycle.__dict__["load"] = loaded
        self.cycle = cycle
        self.review = assess(cycle)

    def _repr_mimebundle_(self, **kwargs: Any):  # display the presenter directly in a notebook
        return self.widget._repr_mimebundle_(**kwargs)
