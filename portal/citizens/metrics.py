"""The figures a quality-management review asks for: requests by status, time to deliver, overdue requests,
answers on time, and what citizens said."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from .store import RequestStore
from .workflow import STATUSES

DAY = 86400.0


@dataclass(frozen=True)
class ServiceMetrics:
    total: int
    by_status: dict[str, int]
    by_service: dict[str, int]
    delivered: int
    median_days_to_deliver: float | None
    on_time: int  # closed (delivered, not found, refused) by the deadline
    closed: int
    overdue: int  # open past the deadline
    ratings: int
    satisfaction: float | None  # mean score, 1-5
    distribution: dict[int, int]  # score -> answers


def service_metrics(store: RequestStore) -> ServiceMetrics:
    now = time.time()
    with store.connect() as conn:
        by_status = dict(conn.execute("SELECT status, count(*) FROM requests GROUP BY status").fetchall())
        by_service = dict(conn.execute("SELECT service, count(*) FROM requests GROUP BY service ORDER BY service"))
        delivered = [closed - submitted for submitted, closed in conn.execute(
            "SELECT submitted, closed FROM requests WHERE status = 'delivered'")]
        closed, on_time = conn.execute("SELECT count(*), coalesce(sum(closed <= deadline), 0) FROM requests "
                                       "WHERE closed IS NOT NULL").fetchone()
        overdue = conn.execute("SELECT count(*) FROM requests WHERE closed IS NULL AND deadline < ?",
                               (now,)).fetchone()[0]
        scores = dict(conn.execute("SELECT score, count(*) FROM request_feedback GROUP BY score").fetchall())
    ratings = sum(scores.values())
    return ServiceMetrics(
        total=sum(by_status.values()), by_status={s: by_status.get(s, 0) for s in STATUSES}, by_service=by_service,
        delivered=len(delivered),
        median_days_to_deliver=statistics.median(delivered) / DAY if delivered else None,
        on_time=on_time, closed=closed, overdue=overdue, ratings=ratings,
        satisfaction=sum(s * n for s, n in scores.items()) / ratings if ratings else None,
        distribution={score: scores.get(score, 0) for score in range(1, 6)},
    )
