# ruff: noqa: F401  (fixtures shared with the app's tests)
from tests.app.conftest import app, shops
