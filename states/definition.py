"""The process definition: versioned data that says which phases a case passes, which gates hold
before each phase may be left, what evidence exists, which deadlines run and who may act."""

from __future__ import annotations

from datetime import date
from functools import cached_property
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints

from upphandla.states.access_policy import AccessPolicy
from upphandla.states.canonical import canonical_json, sha256_hex
from upphandla.states.conditions import Condition
from upphandla.states.validation import Problem

P = TypeVar("P", bound=BaseModel)

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Key = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,63}$")]
Label = Annotated[str, StringConstraints(min_length=1, max_length=300)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Strict):
    name: Identifier
    title: Label
    type: Literal["text", "bool", "int", "date", "choice", "list"]
    required: bool = True
    choices: list[str] | None = None
    items: list[FieldSpec] | None = None  # for a list: the fields of each item
    max_items: Annotated[int, Field(ge=1, le=10_000)] = 1000
    # A valid value, for tests, the demo and benchmarks (states.examples): a date field's example
    # may be relative to the day it is used (`today`, `today-40`, `today+1095`); a list field's
    # is a list of item objects.
    example: Any = None


class GateSpec(_Strict):
    id: Identifier
    title: Label
    check: Identifier
    params: dict[str, Any] = {}
    applies_when: Condition | None = None
    message: Label
    source: Label

    _parsed: BaseModel | None = PrivateAttr(default=None)

    def params_as(self, model: type[P]) -> P:
        """The parameters as the check's own model, validated once per gate."""
        parsed = self._parsed
        if not isinstance(parsed, model):
            parsed = model.model_validate(self.params)
            self._parsed = parsed
        return parsed


class EvidenceKind(_Strict):
    id: Identifier
    title: Label
    roles: list[str]
    phases: list[str] | None = None  # where it may be recorded; None: any open phase
    fields: list[FieldSpec] = []
    description: str = ""
    # Checked when the evidence is recorded, with the new record counted as the latest.
    gates: list[GateSpec] = []
    # The recording user's mandate under the delegation order is stored with the record.
    records_mandate: bool = False


class Phase(_Strict):
    id: Identifier
    title: Label
    description: str = ""
    deadline_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    final: bool = False


class Trigger(_Strict):
    id: Identifier
    title: Label
    source: list[str]
    dest: str
    roles: list[str]
    gates: list[GateSpec] = []
    available_when: Condition | None = None
    requires_comment: bool = False
    notify: list[str] = []  # roles, or "creator" for the case's beställare, told by e-mail
    # A timer: the sweep fires the trigger as the system on the day after this kind of deadline
    # (states.deadlines), when its gates hold.
    fires_after: str | None = None


class LeadTime(_Strict):
    """How long before a contract's last possible end the next procurement must start."""

    applies_when: Condition | None = None
    months: Annotated[int, Field(ge=1, le=120)]
    source: Label


class ExtensionDecisionDefault(_Strict):
    """When an extension option must be decided if the contract does not say (no `decide_by`):
    this many months before the term it extends ends."""

    months: Annotated[int, Field(ge=1, le=60)]
    source: Label


class ContractRules(_Strict):
    """Where a signed contract is recorded and what is computed from it in förvaltning."""

    kind: str  # the evidence kind that registers the contract
    lead_times: list[LeadTime]  # the first that applies wins
    default_lead_months: Annotated[int, Field(ge=1, le=120)]
    import_into: str  # the phase an existing contract is registered into
    # Records that settle a contract deadline: a decision on the extension option with the
    # same `until`, and the start of the next procurement.
    extension_decided_kind: str | None = None
    procurement_started_kind: str | None = None
    # Without it, an option registered without a decision date has no deadline.
    extension_decision_default: ExtensionDecisionDefault | None = None


class ReminderPolicy(_Strict):
    """Who is told about one kind of deadline, how many days before, and to whom it escalates
    when it has passed."""

    deadline: str  # a kind in states.deadlines.DEADLINE_KINDS
    notify: list[str]  # roles, or "creator" for the case's beställare
    before_days: list[Annotated[int, Field(ge=0, le=730)]] = []  # calendar days; 0: the day
    escalate_after_working_days: Annotated[int, Field(ge=1, le=60)] | None = None
    escalate_to: list[str] = []
    source: Label


class WcagFollowUp(_Strict):
    """The yearly accessibility follow-up on citizen-facing contracts (§ 9.2.13)."""

    kind: str  # the evidence kind that records a follow-up
    date_field: Identifier
    phases: list[str]
    applies_when: Condition
    source: Label


class Recheck(GateSpec):
    """A gate the sweep evaluates again on running cases in `phases`, because its facts can go
    stale; when it blocks, the case gets a finding."""

    phases: list[str]


class ReminderRules(_Strict):
    policies: list[ReminderPolicy]
    wcag_follow_up: WcagFollowUp | None = None
    rechecks: list[Recheck] = []

    @cached_property
    def policy(self) -> dict[str, ReminderPolicy]:
        return {p.deadline: p for p in self.policies}


class Definition(_Strict):
    key: Key
    version: Annotated[int, Field(ge=1)]
    title: Label
    description: str = ""
    effective_from: date
    initial: str
    start_roles: list[str] = ["bestallare", "upphandlare", "kategoriledare"]
    phases: list[Phase]
    evidence_kinds: list[EvidenceKind]
    triggers: list[Trigger]
    contracts: ContractRules | None = None
    reminders: ReminderRules | None = None
    access: AccessPolicy | None = None  # None: everyone with a role reads every case

    @cached_property
    def phase(self) -> dict[str, Phase]:
        return {p.id: p for p in self.phases}

    @cached_property
    def trigger(self) -> dict[str, Trigger]:
        return {t.id: t for t in self.triggers}

    @cached_property
    def evidence_kind(self) -> dict[str, EvidenceKind]:
        return {k.id: k for k in self.evidence_kinds}

    @cached_property
    def role_phases(self) -> dict[str, frozenset[str]]:
        """For each role, the open phases where it has something to do: evidence it may record,
        a step it may take (states.access, the `participant` relation)."""
        found: dict[str, set[str]] = {}
        for kind in self.evidence_kinds:
            for role in kind.roles:
                found.setdefault(role, set()).update(
                    kind.phases if kind.phases is not None else self.phase
                )
        for trigger in self.triggers:
            for role in trigger.roles:
                found.setdefault(role, set()).update(trigger.source)
        return {
            role: frozenset(p for p in phases if not self.phase[p].final)
            for role, phases in found.items()
        }

    def triggers_from(self, state: str) -> list[Trigger]:
        return [t for t in self.triggers if state in t.source]

    def checksum(self) -> str:
        return definition_checksum(self.model_dump(mode="json", by_alias=True))


def gates_using(definition: Definition, check: str) -> list[GateSpec]:
    """The gates of the definition's triggers that use `check`, in the order written."""
    return [g for t in definition.triggers for g in t.gates if g.check == check]


def definition_checksum(body: dict[str, Any]) -> str:
    return sha256_hex(canonical_json(body))


class DefinitionError(Exception):
    """A definition that cannot be used, with every problem and its exact path."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.path}: {p.message}" for p in problems))
