"""The answering bot: ``answer_message`` decides (reply, ask, hand off or stay silent), stores the decision
and posts the reply; templates, verification and settings are its parts."""

from shop_app.answers.answer_settings import (
    AnswerChoices,
    get_answer_settings,
    update_answer_settings,
)
from shop_app.answers.audit import preview_template, ticket_decisions
from shop_app.answers.engine import HANDOFF_TAG, PRIORITY_TAG, Decision, answer_message
from shop_app.answers.shop_config import forget_shop_cache, shop_hints
from shop_app.answers.templates import (
    DEFAULTS,
    TemplateRefused,
    check_template,
    delete_template,
    save_template,
    shop_templates,
)
from shop_app.answers.verification import Trust
from shop_app.models.answers import LANGUAGES, TemplateKey

__all__ = [
    "DEFAULTS",
    "HANDOFF_TAG",
    "LANGUAGES",
    "PRIORITY_TAG",
    "AnswerChoices",
    "Decision",
    "TemplateKey",
    "TemplateRefused",
    "Trust",
    "answer_message",
    "check_template",
    "delete_template",
    "forget_shop_cache",
    "get_answer_settings",
    "preview_template",
    "save_template",
    "shop_hints",
    "shop_templates",
    "ticket_decisions",
    "update_answer_settings",
]
