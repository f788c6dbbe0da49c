"""Fixtures of the connector tests."""

from __future__ import annotations

import pytest

from shop_app.settings import Settings
from tests.conftest import FakeShopify
from tests.helpdesk.conftest import Desk
from tests.helpdesk.conftest import desk as desk
from tests.zendesk.zendesk_fixtures import ZendeskDesk, connect
from tests.zendesk.zendesk_fixtures import settings as settings


@pytest.fixture
async def zendesk_desk(desk: Desk, shopify: FakeShopify, settings: Settings) -> ZendeskDesk:
    return await connect(desk, shopify, settings)
