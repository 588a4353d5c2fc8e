"""The access policy of a definition, as Swedish Markdown for the generated rule documentation
(states.docs)."""

from __future__ import annotations

from upphandla.states.access_policy import ACTION_TITLES, ACTIONS, RELATION_TITLES
from upphandla.states.definition import Definition
from upphandla.states.roles import ROLE_NAMES

_NONE = "–"


def _names(roles: list[str]) -> str:
    return ", ".join(ROLE_NAMES.get(r, r) for r in roles) or _NONE


def access_section(d: Definition) -> list[str]:
    policy = d.access
    out = ["## Behörigheter", ""]
    if policy is None:
        return [*out, "Definitionen har ingen åtkomstpolicy: varje roll ser alla ärenden.", ""]
    out += [
        "Vem som får se och göra vad, efter relationen till ärendet: "
        + "; ".join(f"*{RELATION_TITLES[r]}* (`{r}`)" for r in RELATION_TITLES)
        + ". Rollen behövs i ett ärende när den har underlag att registrera eller ett steg att "
        "ta i ärendets fas; den som har agerat i ärendet eller är dess ansvariga upphandlare "
        "deltar i det. Ett ärende som man inte får se besvaras som om det inte fanns (404); ett "
        "som man får se men inte ändra besvaras med 403. Vilka underlag och steg rollen får "
        f"registrera och ta står under varje fas och underlag. Källa: {policy.source}.",
        "",
        "| Roll | " + " | ".join(ACTION_TITLES[a].capitalize() for a in ACTIONS) + " |",
        "|---|" + "---|" * len(ACTIONS),
    ]
    for role, granted in policy.roles.items():
        cells = [
            ", ".join(RELATION_TITLES[r] for r in granted.relations(a)) or "nej" for a in ACTIONS
        ]
        out.append(f"| {ROLE_NAMES.get(role, role)} | " + " | ".join(cells) + " |")
    out += [
        "",
        "Ett ärende tillhör den organisation som den som startar det tillhör; "
        f"{_names(policy.start_for_others)} får starta ärenden för andra organisationer.",
        "",
    ]
    kinds = d.evidence_kind
    if policy.assignment is not None:
        a = policy.assignment
        title = kinds[a.kind].title if a.kind in kinds else a.kind
        out += [
            f"Ärendets ansvariga {ROLE_NAMES.get(a.role, a.role).lower()} utses med underlaget "
            f"”{title}” (`{a.kind}`).",
            "",
        ]
    for sealed in policy.sealed:
        title = kinds[sealed.kind].title if sealed.kind in kinds else sealed.kind
        until = kinds[sealed.until].title if sealed.until in kinds else sealed.until
        out += [
            f"”{title}” (`{sealed.kind}`) är sekretessbelagt tills ”{until}” (`{sealed.until}`) "
            "har registrerats: fram till dess ser bara ärendets ansvariga upphandlare underlagen, "
            "att de finns eller hur många de är, i alla svar, listor, loggar, exporter, "
            "kalendrar och e-brev; varje läsning loggas i ärendets förseglade kedja. Därefter "
            f"gäller de vanliga behörigheterna. Källa: {sealed.source}.",
            "",
        ]
    return out
