"""The lifecycle machine, built with `transitions` from a process definition.

Gates are evaluated by the engine before the machine is asked to move; the machine only applies
what is allowed. `auto_transitions=False`: a generated `to_<state>` would skip every gate.
Callbacks only record what happened; they do no IO.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from transitions import EventData, Machine

from upphandla.states.definition import Definition


@dataclass
class CaseModel:
    """The object the machine moves. It collects the state changes it went through."""

    state: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)


def _record_change(event: EventData) -> None:
    model = event.model
    assert isinstance(model, CaseModel) and event.transition is not None
    dest = event.transition.dest or event.transition.source
    model.changes.append((event.event.name, event.transition.source, dest))


class Lifecycle:
    """One machine per definition version, shared by all cases that follow it.

    The machine holds one model; each call sets it to the case's state under a lock, fires the
    trigger and copies the result out, which is far cheaper than adding a model per call.
    """

    def __init__(self, definition: Definition):
        self.definition = definition
        self._lock = threading.Lock()
        self._model = CaseModel(state=definition.initial)
        self._machine = Machine(
            model=self._model,
            states=[p.id for p in definition.phases],
            transitions=[
                {"trigger": t.id, "source": list(t.source), "dest": t.dest}
                for t in definition.triggers
            ],
            initial=definition.initial,
            auto_transitions=False,
            send_event=True,
            after_state_change=[_record_change],
        )

    def apply(self, state: str, trigger: str) -> CaseModel:
        """Fire `trigger` on a case in `state`; returns the model with its recorded changes."""
        with self._lock:
            model = self._model
            model.changes = []
            self._machine.set_state(state, model=model)
            getattr(model, trigger)()
            return CaseModel(state=model.state, changes=list(model.changes))
