"""A reply written as a letter, not a chat line: a greeting by name, the answer, a closing and the shop's
signature, in the conversation's language (Japanese letters put 様 after the name and the shop's name
in the signature)."""

from __future__ import annotations

from shop_app.i18n import catalogue, first_supported


def letter(*, language: str | None, customer_name: str | None, body: str, shop_name: str | None) -> str:
    words = catalogue(first_supported(language))
    name = " ".join((customer_name or "").split())
    greeting = words.text("email.greeting", name=name) if name else words.text("email.greeting_anonymous")
    shop = " ".join((shop_name or "").split()) or "Order Desk"
    return "\n".join(
        [
            greeting,
            "",
            body.strip(),
            "",
            words.text("email.closing"),
            "",
            words.text("email.signature", shop=shop),
        ]
    )
