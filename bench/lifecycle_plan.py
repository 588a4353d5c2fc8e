"""One annonserad case from start to avslutad: every piece of evidence and every transition, in
order, with the role that acts. Shared by the benchmarks."""

from __future__ import annotations

from datetime import timedelta

from upphandla.states.clock import today

ATTRIBUTES = {
    "title": "Ekonomisystem",
    "organisation": "Ekonomiavdelningen",
    "subcategory": "Verksamhetssystem",
    "route": "annonserad",
    "estimated_value_sek": 5_000_000,
    "personal_data": True,
    "citizen_facing": True,
    "critical_service": True,
    "uses_ai": False,
    "cloud_service": True,
    "consultants": False,
    "hardware": False,
}
TEXT = {"need": "n", "current_state": "c", "budget_owner": "b"}


CHECKLIST = (
    "wcag_2_1_aa security_level nis2 encryption_2fa_traceability pub_instruction confidentiality "
    "exit_strategy sla crisis_clauses ecolabels_chemicals ilo_working_conditions equality "
    "fossil_free_transport onsite_consultant_share circular_element usability testability"
).split()


def lifecycle_plan() -> list[tuple[str, str, str, dict[str, object]]]:
    """(role, 'evidence'|'trigger', name, data) for one annonserad case from start to avslutad."""
    day = today()
    sent_on = (day - timedelta(days=40)).isoformat()
    supplier = "Leverantören AB"
    return [
        ("bestallare", "evidence", "behovsanalys_done", TEXT),
        ("bestallare", "trigger", "complete_behovsanalys", {}),
        (
            "upphandlare",
            "evidence",
            "forstudie_done",
            {
                "market_dialogue": "genomford",
                "sourcing_model": "SaaS",
                "lots_considered": True,
                "objektledare_involved": True,
                "us_cloud_alternatives_asked": True,
            },
        ),
        ("upphandlare", "trigger", "complete_forstudie", {}),
        (
            "informationssakerhet",
            "evidence",
            "ssa_approved",
            {
                "information_class": "3",
                "nis_scope": False,
                "personal_data": True,
                "critical_for_society": True,
                "security_level": "hog",
                "third_country_transfer": False,
            },
        ),
        ("informationssakerhet", "trigger", "complete_ssa", {}),
        ("upphandlare", "evidence", "requirements_done", {"summary": "krav"}),
        *[
            (
                "upphandlare",
                "evidence",
                "requirement_included",
                {"item": item, "reference": "Bilaga 1"},
            )
            for item in CHECKLIST
        ],
        ("sakerhet", "evidence", "crisis_review_done", {"approved": True}),
        ("upphandlare", "trigger", "publish_tender", {}),
        ("upphandlare", "trigger", "close_tender", {}),
        ("upphandlare", "evidence", "evaluation_done", {"winner": supplier}),
        (
            "upphandlare",
            "evidence",
            "sanctions_declaration",
            {
                "parties": [
                    {
                        "name": supplier,
                        "relation": "leverantor",
                        "share_percent": 100,
                        "declaration": True,
                    }
                ]
            },
        ),
        ("upphandlare", "trigger", "complete_evaluation", {}),
        (
            "upphandlare",
            "evidence",
            "award_decision_sent",
            {"sent_on": sent_on, "electronic": True},
        ),
        ("upphandlare", "trigger", "send_award_decision", {}),
        ("upphandlare", "trigger", "end_standstill", {}),
        ("dso", "evidence", "pub_avtal_signed", {"signed_on": sent_on, "reference": "KS 2026/1"}),
        ("upphandlare", "evidence", "accessibility_report_received", {"received_on": sent_on}),
        (
            "bestallare",
            "evidence",
            "implementation_planned",
            {"project_lead": "P", "plan_reference": "plan"},
        ),
        (
            "delegat",
            "evidence",
            "contract_signed",
            {
                "signed_on": day.isoformat(),
                "supplier": supplier,
                "value_sek": ATTRIBUTES["estimated_value_sek"],
            },
        ),
        (
            "upphandlare",
            "evidence",
            "contract_registered",
            {
                "supplier": supplier,
                "value_sek": ATTRIBUTES["estimated_value_sek"],
                "end_on": (day + timedelta(days=1000)).isoformat(),
                "kraljic": "strategiskt",
                "framework": False,
                "processes_personal_data": True,
                "citizen_facing": True,
                "critical": True,
                "register_reference": "AVT-1",
            },
        ),
        ("delegat", "trigger", "sign_contract", {}),
        (
            "bestallare",
            "evidence",
            "acceptance_requirements",
            {"requirements": [{"id": "K1", "text": "Tvåfaktor", "level": "ska"}]},
        ),
        ("bestallare", "evidence", "supplier_ready", {"ready_on": day.isoformat()}),
        (
            "bestallare",
            "evidence",
            "acceptance_round",
            {"results": [{"id": "K1", "result": "godkand"}]},
        ),
        ("objektledare_it", "evidence", "acceptance_signoff_objektledare", {}),
        ("bestallare", "trigger", "approve_acceptance", {}),
        ("bestallare", "evidence", "handover_done", {"forvaltning_owner": "F"}),
        ("bestallare", "trigger", "go_live", {}),
        ("upphandlare", "trigger", "start_exit", {}),
        ("upphandlare", "evidence", "exit_done", {"data_returned": True}),
        ("upphandlare", "trigger", "close_case", {}),
    ]
