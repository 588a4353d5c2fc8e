"""The read models the web pages add (flows.views.work, start_preview, contracts): what waits
for whom, the gates that will apply before a case exists, and the contract register."""

from __future__ import annotations

from datetime import timedelta

from helpers import User, attributes, contract, frozen, imported, record, start, v1
from upphandla.flows.handler import Handler
from upphandla.flows.views.contracts import contract_register
from upphandla.flows.views.start_preview import steps_ahead
from upphandla.flows.views.work import my_work
from upphandla.states.clock import today
from upphandla.store.db import Database


def work_of(db: Database, user: User) -> list:
    handler = Handler.on(db)
    with handler.reader() as uow:
        return my_work(uow, registry=handler.registry, actor=user.actor)


def test_my_work_names_the_evidence_a_role_must_record_and_puts_overdue_first(
    db: Database, users: dict[str, User]
) -> None:
    with frozen("2026-03-02T09:00:00+01:00") as clock:
        early = start(db, users["bestallare"], title="Tidigt ärende")
        clock.tick(timedelta(days=20))
        late = start(db, users["bestallare"], title="Senare ärende")
        title = v1().evidence_kind["behovsanalys_done"].title
        mine = [i for i in work_of(db, users["bestallare"]) if i.kind == "underlag"]
        assert [(i.case_id, i.what) for i in mine] == [
            (early, f"Registrera ”{title}”"),
            (late, f"Registrera ”{title}”"),
        ]
        assert not any(i.overdue for i in mine)
        # Nothing on these cases waits for the data-protection officer in behovsanalys.
        assert [i for i in work_of(db, users["dso"]) if i.case_id in (early, late)] == []
        days = v1().phase["behovsanalys"].deadline_days
        assert days is not None
        clock.tick(timedelta(days=days - 10))  # the early case's phase is past its target
        mine = [i for i in work_of(db, users["bestallare"]) if i.kind == "underlag"]
        assert [i.case_id for i in mine] == [early, late]
        assert mine[0].overdue and not mine[1].overdue
        assert mine[0].days_left is not None and mine[0].days_left < 0
        # Once recorded, it no longer waits; the step it unblocks does.
        record(db, early, "behovsanalys_done", users["bestallare"])
        mine = [i for i in work_of(db, users["bestallare"]) if i.case_id == early]
        assert [i.kind for i in mine] == ["steg"]


def test_the_preview_follows_the_route_and_the_attributes() -> None:
    direct = {s.trigger.id: s for s in steps_ahead(v1(), attributes(route="direktupphandling"))}
    advertised = {s.trigger.id: s for s in steps_ahead(v1(), attributes(route="annonserad"))}
    assert "direct_award" in direct and "publish_tender" not in direct
    assert "publish_tender" in advertised and "direct_award" not in advertised
    # A gate that hangs on an attribute applies only when the attribute says so.
    conditional = [
        (t.id, g.id)
        for t in v1().triggers
        for g in t.gates
        if g.applies_when is not None and g.applies_when.facts_used() == {"uses_ai"}
    ]
    assert conditional
    for trigger, gate in conditional:
        with_ai = steps_ahead(v1(), attributes(uses_ai=True))
        without = steps_ahead(v1(), attributes(uses_ai=False))
        assert gate in {g.gate.id for s in with_ai if s.trigger.id == trigger for g in s.gates}
        assert gate not in {g.gate.id for s in without if s.trigger.id == trigger for g in s.gates}


def test_the_contract_register_lists_registered_contracts_with_what_falls_due(
    db: Database, users: dict[str, User]
) -> None:
    handler = Handler.on(db)
    with handler.reader() as uow:
        before = contract_register(uow, registry=handler.registry, actor=users["controller"].actor)
    assert before == []
    case_id = imported(db, users["upphandlare"], contract())
    with frozen("2026-03-02T09:00:00+01:00"):
        with handler.reader() as uow:
            found = contract_register(
                uow, registry=handler.registry, actor=users["controller"].actor
            )
        assert [c.case.id for c in found] == [case_id]
        kinds = {d.kind for d in found[0].upcoming}
        assert kinds == {"new_procurement_start", "extension_decision"}
        assert found[0].next_due is not None and found[0].next_due.due_on >= today()
