"""The reminder policy, timers and re-checks of a definition, as Swedish Markdown for the
generated rule documentation (states.docs)."""

from __future__ import annotations

from upphandla.states.deadlines import DEADLINE_KINDS
from upphandla.states.definition import Definition
from upphandla.states.reminders import SEND_HOUR
from upphandla.states.roles import ROLE_NAMES


def _recipients(names: list[str]) -> str:
    return ", ".join(
        "ärendets beställare" if n == "creator" else ROLE_NAMES.get(n, n) for n in names
    )


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def reminders_section(d: Definition) -> list[str]:
    rules = d.reminders
    out = ["## Påminnelser, eskaleringar och omprövningar", ""]
    timers = [t for t in d.triggers if t.fires_after]
    if rules is None and not timers:
        return [*out, "Definitionen har ingen påminnelsepolicy.", ""]
    out += [
        "Påminnelser skickas med e-post, med frister som kalenderhändelse (.ics). En påminnelse "
        "skickas det angivna antalet kalenderdagar före fristen, från kl. "
        f"{SEND_HOUR:02d} svensk tid; infaller den dagen på en lördag, söndag eller helgdag "
        "skickas den arbetsdagen före. En frist som passerats eskaleras den angivna arbetsdagen "
        "efter fristen. Har flera påminnelser hunnit bli aktuella (t.ex. för ett avtal som "
        "registrerats sent) skickas bara den senaste, och bara innan fristen passerats.",
        "",
    ]
    if rules is not None:
        out += [
            "| Frist | Till | Påminnelse, dagar före | Eskalering | Källa |",
            "|---|---|---|---|---|",
        ]
        for p in rules.policies:
            before = ", ".join(str(n) for n in sorted(p.before_days, reverse=True)) or "–"
            escalation = (
                f"{p.escalate_after_working_days} arbetsdagar efter fristen till "
                f"{_recipients(p.escalate_to)}"
                if p.escalate_after_working_days is not None
                else "–"
            )
            out.append(
                f"| {DEADLINE_KINDS.get(p.deadline, p.deadline)} (`{p.deadline}`) | "
                f"{_recipients(p.notify)} | {before} | {escalation} | {_cell(p.source)} |"
            )
        out.append("")
        if rules.wcag_follow_up is not None:
            w = rules.wcag_follow_up
            out += [
                f"Årlig uppföljning av tillgänglighet ({_cell(w.source)}): när "
                f"{_cell(w.applies_when.describe())}, ett år efter senaste `{w.kind}` "
                "(eller efter att ärendet kom in i förvaltning).",
                "",
            ]
        out += _contract_deadlines(d)
        if rules.rechecks:
            out += [
                "Omprövningar: grindar som kontrolleras igen i pågående ärenden. Så länge en "
                "blockerar har ärendet en anmärkning, som också påminns om och eskaleras.",
                "",
                "| Omprövning | Faser | Gäller när | Meddelande | Källa |",
                "|---|---|---|---|---|",
            ]
            for r in rules.rechecks:
                applies = r.applies_when.describe() if r.applies_when is not None else "alltid"
                phases = ", ".join(d.phase[p].title for p in r.phases if p in d.phase)
                out.append(
                    f"| {_cell(r.title)} (`{r.id}`) | {phases} | {_cell(applies)} | "
                    f"{_cell(r.message)} | {_cell(r.source)} |"
                )
            out.append("")
    for t in timers:
        kind = DEADLINE_KINDS.get(t.fires_after or "", t.fires_after)
        out += [
            f"Tidsstyrd övergång: systemet gör {t.title} (`{t.id}`) dagen efter "
            f"”{kind}”, när övergångens grindar håller.",
            "",
        ]
    return out


def _contract_deadlines(d: Definition) -> list[str]:
    """How the deadlines of a registered contract are computed (states.deadlines)."""
    rules = d.contracts
    if rules is None:
        return []
    leads = [
        f"{lt.months} månader när {_cell(lt.applies_when.describe())} ({_cell(lt.source)})"
        if lt.applies_when is not None
        else f"{lt.months} månader ({_cell(lt.source)})"
        for lt in rules.lead_times
    ]
    lead_text = "; ".join([*leads, f"annars {rules.default_lead_months} månader"])
    out = [
        f"Avtalsfrister, från det registrerade avtalet (`{rules.kind}`): en ny upphandling ska "
        f"påbörjas i god tid före avtalets sista möjliga slut, med förlängningar: {lead_text}.",
    ]
    default = rules.extension_decision_default
    decide = "En förlängningsoption ska beslutas senast det datum avtalet anger (`decide_by`)" + (
        f", och anger det inget, {default.months} månader innan den avtalstid optionen "
        f"förlänger löper ut ({_cell(default.source)})."
        if default is not None
        else "; anger det inget datum finns ingen frist."
    )
    return [*out, "", decide, ""]
