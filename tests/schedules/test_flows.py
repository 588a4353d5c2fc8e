"""The sweep and delivery flows run through Prefect (one harness per session), on both database
backends, with a real SMTP server; the deployments; and `sweep --now` / `worker` from the
command line."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect_support import Smtp, base_env, upphandla, wait_for
from sqlalchemy import func, select

from helpers import orm_session
from upphandla.cli.startup import prepare
from upphandla.cli.worker import runner_pace
from upphandla.flows.orchestration.prefect_flows import (
    CHECKPOINT_FLOW,
    DELIVERY_FLOW,
    SWEEP_FLOW,
    deliver_flow,
    deployments,
    sweep_flow,
)
from upphandla.flows.settings import Settings
from upphandla.states.clock import now
from upphandla.store.db import Database
from upphandla.store.models import CaseRow, OutboxRow

pytestmark = pytest.mark.prefect

OVERDUE_CONTRACT = "Kommunikation som tjänst"  # demo data: its extension ran out in 2025-2026
REPORT_KEYS = {"cases", "enqueued", "escalated", "transitions", "findings", "findings_closed"}


def _count(db: Database, query: Any) -> int:
    with orm_session(db, commit=False) as session:
        return int(session.scalar(query) or 0)


def _due(db: Database) -> int:
    return _count(
        db, select(func.count()).select_from(CaseRow).where(CaseRow.next_sweep_at <= now())
    )


def _outbox(db: Database, state: str) -> int:
    return _count(db, select(func.count()).select_from(OutboxRow).where(OutboxRow.state == state))


async def _task_run_names(flow_run_id: UUID) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    async with get_client() as client:
        runs = await client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    return sorted(run.name for run in runs)


def test_sweep_and_delivery_run_through_prefect_one_task_per_batch(
    prefect_harness: None,
    db: Database,
    db_url: str,
    smtp: Smtp,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in smtp.env().items():
        monkeypatch.setenv(name, value)
    prepare(db, Settings(database_url=db_url), demo=True)
    due = _due(db)
    assert due > 10

    state = asyncio.run(sweep_flow(database_url=db_url, batch_size=10, return_state=True))
    assert state.is_completed(), state
    report = state.result()
    assert REPORT_KEYS <= set(report)
    assert report["cases"] == due
    assert report["escalated"] >= 1  # the overdue contract, at least
    assert report["errors"] == 0
    assert _due(db) == 0
    # One task run per batch of ten, never one per case (task runs reach the server by events).
    flow_run_id = state.state_details.flow_run_id
    assert flow_run_id is not None
    batches = math.ceil(due / 10)

    expected = sorted(f"sweep-batch-{i}" for i in range(1, batches + 1))
    seen: list[str] = []

    def recorded() -> list[str] | None:
        # A task run's name can reach the server in a later event than the run itself.
        seen[:] = asyncio.run(_task_run_names(flow_run_id))
        return seen if seen == expected else None

    with contextlib.suppress(AssertionError):  # on time-out the comparison below shows why
        wait_for("the sweep's task runs", recorded, timeout=30)
    assert seen == expected

    pending = _outbox(db, "pending")
    assert pending >= report["enqueued"] + report["escalated"]
    delivered = asyncio.run(deliver_flow(database_url=db_url, batch_size=4))
    assert delivered["sent"] == pending
    assert delivered["passes"] == pending // 4 + 1  # the last pass finds less than four
    assert _outbox(db, "pending") == 0
    assert len(smtp.inbox.messages) == pending
    assert smtp.inbox.mentioning(OVERDUE_CONTRACT)

    # Exactly once is the database's: a second sweep finds nothing due, delivery nothing to send.
    again = asyncio.run(sweep_flow(database_url=db_url))
    assert again["cases"] == 0 and again["enqueued"] == 0 and again["escalated"] == 0
    assert asyncio.run(deliver_flow(database_url=db_url)) == {
        "sent": 0,
        "retried": 0,
        "dead": 0,
        "passes": 1,
    }
    assert len(smtp.inbox.messages) == pending


def test_deployments_follow_the_settings() -> None:
    settings = Settings(
        sweep_interval_seconds=17, delivery_interval_seconds=7, checkpoint_interval_seconds=600
    )
    sweep, delivery, checkpoint = deployments(settings)
    assert (sweep.flow_name, delivery.flow_name) == (SWEEP_FLOW, DELIVERY_FLOW)
    assert sweep.entrypoint == "upphandla.flows.orchestration.prefect_flows.sweep_flow"
    assert delivery.entrypoint == "upphandla.flows.orchestration.prefect_flows.deliver_flow"
    assert [s.schedule.interval for s in sweep.schedules] == [timedelta(seconds=17)]
    assert [s.schedule.interval for s in delivery.schedules] == [timedelta(seconds=7)]
    assert checkpoint.flow_name == CHECKPOINT_FLOW
    assert [s.schedule.interval for s in checkpoint.schedules] == [timedelta(seconds=600)]


@pytest.mark.parametrize(
    ("sweep", "delivery", "pace"),
    [(900, 60, (None, 10.0)), (900, 20, (None, 10.0)), (4, 3, (1.5, 1.5)), (1, 60, (1.0, 1.0))],
)
def test_the_worker_paces_its_runner_by_the_shortest_schedule(
    sweep: int, delivery: int, pace: tuple[float | None, float]
) -> None:
    """Prefect's defaults for schedules of 20 s and more; shorter ones (as in the tests) are
    looked for, and started ahead, at half the shortest interval."""
    settings = Settings(sweep_interval_seconds=sweep, delivery_interval_seconds=delivery)
    assert runner_pace(settings) == pace


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, env=env, cwd=cwd, capture_output=True, text=True, timeout=180, check=False
    )


def test_worker_needs_a_prefect_server(tmp_path: Path) -> None:
    result = _run(upphandla("worker"), base_env(), tmp_path)
    assert result.returncode == 2
    assert "PREFECT_API_URL saknas" in result.stderr
    assert result.stdout == ""


def test_sweep_without_now_says_what_to_do(tmp_path: Path) -> None:
    result = _run(upphandla("sweep"), base_env(), tmp_path)
    assert result.returncode == 2
    assert "--now" in result.stderr


def test_sweep_now_without_any_server_uses_a_temporary_one_and_prints_only_json(
    tmp_path: Path,
) -> None:
    env = base_env(
        UPPHANDLA_DATABASE_URL=f"sqlite:///{tmp_path}/upphandla.db",
        UPPHANDLA_DATA_DIR=str(tmp_path / "data"),
        UPPHANDLA_PREFECT_PORT="9",  # nothing of ours answers there
    )
    result = _run(upphandla("sweep", "--now", "--json"), env, tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)  # exactly one JSON object, nothing else
    assert isinstance(report, dict) and REPORT_KEYS <= set(report)
    assert report["cases"] == 0
    assert (tmp_path / "data" / "prefect" / "prefect.db").exists()
