"""Pages the platform serves to people: the chat where a person plays the LINE user, and the account-link
dialog. Japanese and English, chosen by ``?lang=`` or the browser's language."""

from __future__ import annotations

from pathlib import Path

from starlette.templating import Jinja2Templates

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

templates = Jinja2Templates(directory=TEMPLATES_DIR)
