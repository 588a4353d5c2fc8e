"""The one clock. Everything that needs the time asks here, so freezegun controls it."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def now() -> datetime:
    """Timezone-aware UTC now."""
    return datetime.now(timezone.utc)


def today() -> date:
    """Today's date in Europe/Stockholm, where the law counts days."""
    return now().astimezone(STOCKHOLM).date()


def local_date(moment: datetime) -> date:
    return moment.astimezone(STOCKHOLM).date()
