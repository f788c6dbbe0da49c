"""LINE's events under load: the webhook's 200 costs one write and nothing else, a job's events are read
once and applied one write transaction each, several users side by side with each user's messages in
order, a known user's profile is not asked for again, and a connection changed here is seen at once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlmodel import col

from shop_app.channels.line.connections import set_line_enabled
from shop_app.database import transaction
from shop_app.models import AuthorType, LineUser, Message, Shop
from tests.helpdesk.conftest import ALPHA
from tests.line.conftest import LineDesk

pytestmark = pytest.mark.anyio

USERS = [f"Uorder{i:027d}" for i in range(3)]


@dataclass
class Statements:
    """Every SQL statement of every engine while counting, and the transactions that wrote."""

    sql: list[str] = field(default_factory=list)
    writing_commits: int = 0
    _writing: set[int] = field(default_factory=set)

    def statement(self, connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith(("BEGIN", "PRAGMA")):
            return
        self.sql.append(" ".join(statement.split()))
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            self._writing.add(id(connection))

    def commit(self, connection: Any) -> None:
        if id(connection) in self._writing:
            self._writing.discard(id(connection))
            self.writing_commits += 1


@contextmanager
def counting() -> Iterator[Statements]:
    counted = Statements()
    event.listen(Engine, "before_cursor_execute", counted.statement)
    event.listen(Engine, "commit", counted.commit)
    try:
        yield counted
    finally:
        event.remove(Engine, "before_cursor_execute", counted.statement)
        event.remove(Engine, "commit", counted.commit)


async def test_the_webhooks_answer_costs_one_insert_and_the_jobs_one_write_per_event(
    line_desk: LineDesk,
) -> None:
    await line_desk.post([line_desk.event("Uwarm0000000000000000000000000001")])
    await line_desk.settle()
    replies_before = len(line_desk.line.sent("reply"))

    with counting() as webhook:
        answer = await line_desk.post([line_desk.event(user, text="こんにちは") for user in USERS])
        # what the job does is counted apart: the webhook's share is all done when its answer came
        webhook_sql, webhook_commits = list(webhook.sql), webhook.writing_commits
    with counting() as job:
        await line_desk.settle()

    assert answer.status_code == 200
    assert len(webhook_sql) == 1 and webhook_sql[0].startswith("INSERT INTO line_webhook_events")
    assert webhook_commits == 1
    # one write per event, and one recording what LINE said of the answers
    assert job.writing_commits == len(USERS) + 1
    assert len(line_desk.line.sent("reply")) - replies_before == len(USERS)


async def test_each_users_messages_keep_their_order_across_requests_and_jobs(line_desk: LineDesk) -> None:
    for turn in range(3):
        await line_desk.post([line_desk.event(user, text=f"{user[-1]}-{turn}") for user in USERS])
    await line_desk.settle()

    async with line_desk.desk.services.sessions() as session:
        rows = (
            await session.execute(
                select(Message.ticket_id, Message.body)
                .where(col(Message.author_type) == AuthorType.CUSTOMER)
                .order_by(col(Message.id))
            )
        ).all()
        users = (await session.execute(select(LineUser))).scalars().all()
    by_ticket: dict[int, list[str]] = {}
    for ticket_id, body in rows:
        by_ticket.setdefault(ticket_id, []).append(body)
    assert sorted(by_ticket.values()) == [[f"{u[-1]}-{turn}" for turn in range(3)] for u in USERS]
    assert {user.line_user_id for user in users} == set(USERS)
    # LINE's profile is asked once per user; their display name is kept with them after that
    profile_calls = [path for path in line_desk.line.paths() if path.startswith("/v2/bot/profile/")]
    assert sorted(profile_calls) == [f"/v2/bot/profile/{user}" for user in USERS]
    assert all(user.display_name for user in users)


async def test_a_connection_disabled_here_refuses_its_webhook_at_once(line_desk: LineDesk) -> None:
    before = await line_desk.post([line_desk.event(USERS[0])])
    async with transaction(line_desk.desk.services.sessions) as session:
        shop = await session.get_one(Shop, line_desk.desk.shop_ids[ALPHA])
        await set_line_enabled(session, shop=shop, enabled=False)
    after = await line_desk.post([line_desk.event(USERS[1])])
    async with transaction(line_desk.desk.services.sessions) as session:
        shop = await session.get_one(Shop, line_desk.desk.shop_ids[ALPHA])
        await set_line_enabled(session, shop=shop, enabled=True)
    again = await line_desk.post([line_desk.event(USERS[2])])

    assert [a.status_code for a in (before, after, again)] == [200, 401, 200]
