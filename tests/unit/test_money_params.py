"""The definition check on the money checks' parameters: every value a list names is an amount,
the kinds and grounds they name exist."""

from __future__ import annotations

from typing import Any

from upphandla.seeds.loader import DEFINITIONS, read_yaml
from upphandla.states.checks import CHECKS
from upphandla.states.definition_checks import known_facts
from upphandla.states.parse import parse_definition

V1 = parse_definition(read_yaml(DEFINITIONS / "it-upphandling.v1.yaml"))
KINDS = V1.evidence_kind
FACTS = known_facts(V1)
VALUES = [
    {"fact": "contract_registered.value_sek", "title": "Avtalets värde"},
    {"fact": "estimated_value_sek", "title": "Uppskattat värde"},
]


def problems(check: str, params: dict[str, Any]) -> dict[str, str]:
    found = CHECKS[check].param_problems(params, "p", KINDS, FACTS)
    return {p.path: p.message for p in found}


def test_a_value_that_is_not_an_amount_is_refused() -> None:
    wrong = [*VALUES, {"fact": "contract_registered.supplier", "title": "Leverantör"}]
    assert problems("value_below_threshold", {"series": "direct_award", "values": wrong}) == {
        "p.values[2].fact": "”contract_registered.supplier” är inte en beloppsuppgift"
    }
    assert problems("value_below_threshold", {"series": "direct_award", "values": VALUES}) == {}


def test_the_signing_kind_of_similar_contracts_needs_its_date() -> None:
    params = {
        "series": "direct_award",
        "values": VALUES,
        "count_similar_when": "recurring",
        "similar_kind": "contract_registered",
    }
    assert problems("value_below_threshold", params) == {
        "p.similar_kind": "”contract_registered” saknar datumfältet signed_on"
    }


def test_a_mandate_is_read_from_a_kind_that_keeps_it_and_amendments_are_amounts() -> None:
    assert problems("mandate_covers_value", {"kind": "contract_registered", "values": VALUES}) == {
        "p.kind": "”contract_registered” sparar inte registrerarens mandat"
    }
    params = {"kind": "amendment_signed", "values": VALUES, "amendment_kind": "andring"}
    assert problems("mandate_covers_value", params) == {
        "p.amendment_field": "”andring.value_sek” är inte en beloppsuppgift"
    }


def test_a_cap_names_a_ground_of_the_amendment() -> None:
    params = {
        "kind": "amendment",
        "values": VALUES,
        "series": "eu_goods_services",
        "cap_percent": {"17_kap_11": 50, "17_kap_99": 50},
    }
    assert problems("amendment_within_limits", params) == {
        "p.cap_percent.17_kap_99": "”17_kap_99” är inte en rättslig grund"
    }


def test_a_correction_names_fields_of_its_kind() -> None:
    params = {"kind": "award_decision_sent", "field": "value_sek", "reason_field": "skal"}
    assert problems("correction_explained", params) == {
        "p.reason_field": "”award_decision_sent” har inget fält ”skal”"
    }
