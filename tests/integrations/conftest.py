from __future__ import annotations

import pytest
from graphql import GraphQLSchema, build_schema

from tests.conftest import REFERENCE

SCHEMA_PATH = REFERENCE / "admin-graphql-schema" / "admin-2026-07.graphql"


@pytest.fixture(scope="session")
def admin_schema() -> GraphQLSchema:
    schema = build_schema(SCHEMA_PATH.read_text(encoding="utf-8"))
    # Shopify's schema trips graphql-core's strict self-check on deprecated interface fields.
    schema._validation_errors = []
    return schema
