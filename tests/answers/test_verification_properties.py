"""Property-based checks of who hears about an order (Hypothesis): messages are generated from order numbers
in both languages' forms and candidate proofs (emails, phones, postal codes) in many spellings, several,
duplicated and mixed, with noise, in Japanese and English, against a shop whose orders are known.

The rule: an attempt (one message, naming its order or continuing the conversation's) discloses an order
only when it offers exactly one candidate of each kind it offers, every one of them the order's, and at
least one. Two spellings of one candidate are one candidate. Anything else gets the reply wrong details
get. And one source trying orders, whatever the messages look like, is cut off once its tries (every order
number and every candidate of a failed message) reach the limit.

Bounded and reproducible: a few dozen examples per property, derandomized, no example database."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from shop_app.answers import Decision, Trust
from shop_app.answers.templates import DEFAULTS
from shop_app.answers.verification import MAX_FAILED_ATTEMPTS_PER_SOURCE
from shop_app.database import transaction
from shop_app.formats.display import formatter
from shop_app.models import Verification, VerificationAttempt
from shop_app.models.answers import TemplateKey
from tests.answers.answer_world import NOW, World, world

__all__ = ["world"]

pytestmark = pytest.mark.anyio


def bounded(examples: int) -> settings:
    """A few dozen examples each (a bot answer costs a few database round trips), the same ones on every
    run; the world (a migrated database with the shop's orders) is built once per test, and each example
    starts from no attempts with its own source and tickets."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@dataclass(frozen=True)
class Known:
    """An order of the fixture shop: its proofs (comparable spellings) and the texts its reply names."""

    email: str
    phone: str  # E.164
    zip_code: str
    details: tuple[str, ...] = ()


YAMATO = {"number": "444413758703", "company": "ヤマト運輸"}
SAGAWA = {"number": "555566667777", "company": "佐川急便"}
JA, EN = formatter("ja", "Asia/Tokyo", "JPY"), formatter("en", "Asia/Tokyo", "JPY")
ETA, DELIVERED, SHIP_DATE = NOW + timedelta(days=3), NOW - timedelta(days=1), NOW + timedelta(days=5)


def _days(moment: object) -> tuple[str, ...]:
    return (JA.day_text(moment), EN.day_text(moment))  # type: ignore[arg-type]


ORDERS = {
    1001: Known("hanako@example.jp", "+819012345678", "150-0001", ("444413758703", *_days(ETA))),
    1002: Known("taro.sato@example.com", "+818011112222", "160-0022", ("555566667777", *_days(DELIVERED))),
    1003: Known("yuki@example.org", "+817033334444", "530-0001", ("4,400",)),
    1004: Known("ken@example.net", "+819055556666", "060-0001", _days(SHIP_DATE)),
}
MISSING = (1099, 4242)
STRANGERS = {
    "email": ("guess@example.com", "someone@example.jp"),
    "phone": ("+819099998888", "+818077776666"),
    "zip_code": ("999-9999", "231-0023", "30303"),
}
KINDS = ("email", "phone", "zip_code")
NEUTRAL = {
    DEFAULTS[(key, language)]
    for key in (TemplateKey.VERIFICATION_FAILED, TemplateKey.HANDOFF)
    for language in ("ja", "en")
}
_sources = itertools.count()


async def _seed(world: World) -> None:
    """The shop's four orders, once per test (the world outlives the examples)."""
    if world.orders:
        return
    in_transit = {"display_status": "IN_TRANSIT", "estimated_delivery_at": ETA, "tracking": [YAMATO]}
    delivered = {"display_status": "DELIVERED", "delivered_at": DELIVERED, "tracking": [SAGAWA]}
    await world.add_order(1001, **_proofs(1001), shipments=[in_transit], fulfillment_status="FULFILLED")
    await world.add_order(1002, **_proofs(1002), shipments=[delivered], fulfillment_status="FULFILLED")
    await world.add_order(1003, **_proofs(1003), financial_status="REFUNDED", total_refunded="4400")
    await world.add_order(
        1004, **_proofs(1004), fulfillment_orders=[{"status": "OPEN", "fulfill_at": SHIP_DATE}]
    )


def _proofs(number: int) -> dict[str, str]:
    known = ORDERS[number]
    return {"email": known.email, "phone": known.phone, "zip_code": known.zip_code}


async def _fresh_source(world: World) -> Trust:
    async with transaction(world.sessions) as session:
        await session.execute(delete(VerificationAttempt))
    return Trust(source=f"ip:192.0.2.{next(_sources)}")


# ---- spellings


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _national(phone: str) -> str:
    digits = "0" + phone.removeprefix("+81")
    return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"


def email_spellings(email: str) -> list[str]:
    return [
        email,
        email.upper(),
        email.capitalize(),
        f"my email is {email}",
        f"email: {email.upper()}",
        f"メールアドレスは{email}です",
        f"メール：{_full_width(email)}",
    ]


def phone_spellings(phone: str) -> list[str]:
    national = _national(phone)
    plain = national.replace("-", "")
    local = phone.removeprefix("+81")
    return [
        national,
        plain,
        national.replace("-", " "),
        f"+81 {local[:2]} {local[2:6]} {local[6:]}",
        f"+81-{local[:2]}-{local[2:6]}-{local[6:]}",
        phone,
        f"phone {national}",
        f"tel: {plain}",
        f"電話番号は{national}です",
        f"電話 {_full_width(national)}",
    ]


def zip_spellings(code: str) -> list[str]:
    if "-" not in code:  # a five-digit code is read after a cue only
        return [f"zip {code}", f"Zip Code: {code}", f"郵便番号{_full_width(code)}"]
    head, tail = code.split("-")
    return [
        code,
        f"〒{code}",
        f"〒{head}{tail}",
        f"〒 {head} - {tail}",
        f"{head}ー{tail}",
        f"{head}−{tail}",
        _full_width(f"〒{code}"),
        f"zip {head}{tail}",
        f"postal code: {code}",
        f"郵便番号{head}{tail}",
        f"郵便番号は{head} {tail}です",
    ]


SPELLINGS = {"email": email_spellings, "phone": phone_spellings, "zip_code": zip_spellings}
REF_FORMS = (
    "#{n}",
    "order #{n}",
    "order {n}",
    "order no. {n}",
    "Order Number {n}",
    "注文番号{n}",
    "注文番号：{n}",
    "ご注文{n}",
    "オーダー番号{n}",
    "注文#{n}",
)
INTROS = {
    "en": ("Where is my {ref}{more}?", "Has {ref}{more} shipped yet?", "When will {ref}{more} arrive?"),
    "ja": (
        "{ref}{more}の配送状況を教えてください",
        "{ref}{more}はいつ届きますか？",
        "{ref}{more}はどこですか？",
    ),
}
MORE = {"en": " and {ref}", "ja": "と{ref}"}
NOISE = {
    "en": ("", "Hi.", "Thank you.", "Hello,", "🙂", "Many thanks!"),
    "ja": ("", "こんにちは。", "よろしくお願いします。", "すみません、", "🙏", "お手数ですが"),
}
# between two candidates: never bare spaces, which would run two phone numbers into one
SHAPES = ("several", "right", "wrong beside", "several", "each kind", "right twice", "several", "any", "none")
SEPARATORS = (", ", " / ", " or ", " and ", "と", " または ", "; ")


@dataclass(frozen=True)
class Shape:
    """One generated message and what it carries: its order numbers and candidate proofs (kind, value)."""

    text: str
    language: str
    refs: tuple[int, ...]
    candidates: tuple[tuple[str, str], ...]

    def distinct(self, kind: str) -> set[str]:
        return {value for k, value in self.candidates if k == kind}

    def proves(self, number: int | None) -> bool:
        """The rule: one candidate of each kind offered, all the order's, at least one."""
        if number not in ORDERS or not self.candidates:
            return False
        known = ORDERS[number]
        return all(self.distinct(kind) <= {getattr(known, kind)} for kind in KINDS)

    @property
    def tries(self) -> int:
        """The fewest failures this message may count when it fails."""
        return max(len(set(self.refs)), len(set(self.candidates)), 1)


def _values(kind: str, target: int) -> tuple[str, list[str]]:
    """The target's own value of a kind (a stranger's when there is no such order), and everyone else's."""
    others = [getattr(known, kind) for number, known in ORDERS.items() if number != target]
    others += STRANGERS[kind]
    return (getattr(ORDERS[target], kind) if target in ORDERS else STRANGERS[kind][0]), others


@st.composite
def candidates(draw: st.DrawFn, target: int, *, most: int = 4) -> list[tuple[str, str, str]]:
    """(kind, value, spelled), in one of the shapes that matter: none, the right one (maybe twice, in two
    spellings), the right one of several kinds, a right one beside a wrong one of another kind, several
    of one kind with the right one among them, or anything at all."""
    kind = draw(st.sampled_from(KINDS))
    own, others = _values(kind, target)
    # several of a kind, the case that disclosed orders, is drawn most often
    shape = draw(st.sampled_from(SHAPES))
    values: list[tuple[str, str]] = []
    if shape in ("right", "right twice", "wrong beside", "several"):
        values.append((kind, own))
    if shape == "right twice":
        values.append((kind, own))
    if shape == "each kind":
        values += [(k, _values(k, target)[0]) for k in draw(st.lists(st.sampled_from(KINDS), min_size=2))]
    if shape == "wrong beside":
        other_kind = draw(st.sampled_from([k for k in KINDS if k != kind]))
        values.append((other_kind, draw(st.sampled_from(_values(other_kind, target)[1]))))
    if shape == "several":
        values += [(kind, v) for v in draw(st.lists(st.sampled_from(others), min_size=1, max_size=most - 1))]
    if shape == "any":
        for _ in range(draw(st.integers(1, most))):
            k = draw(st.sampled_from(KINDS))
            values.append((k, draw(st.sampled_from([_values(k, target)[0], *_values(k, target)[1]]))))
    chosen = [(k, v, draw(st.sampled_from(SPELLINGS[k](v)))) for k, v in values]
    return draw(st.permutations(chosen))


@st.composite
def _proof_text(draw: st.DrawFn, language: str, chosen: list[tuple[str, str, str]]) -> str:
    text = ""
    for index, (_, _, spelled) in enumerate(chosen):
        text += (draw(st.sampled_from(SEPARATORS)) if index else "") + spelled
    noise = draw(st.sampled_from(NOISE[language]))
    return f"{text} {noise}".strip() if draw(st.booleans()) else f"{noise} {text}".strip()


@st.composite
def messages(draw: st.DrawFn, *, most_refs: int = 3, most_candidates: int = 4) -> Shape:
    """A question naming an order (sometimes several), with candidate proofs."""
    language = draw(st.sampled_from(("ja", "en")))
    target = draw(st.sampled_from([*ORDERS, *ORDERS, *MISSING]))
    extra = draw(st.lists(st.sampled_from([*ORDERS, *MISSING]), max_size=most_refs - 1))
    refs = [target, *extra]
    spelled = [_spell_ref(draw, n) for n in refs]
    more = "".join(MORE[language].format(ref=ref) for ref in spelled[1:])
    intro = draw(st.sampled_from(INTROS[language])).format(ref=spelled[0], more=more)
    chosen = draw(candidates(target, most=most_candidates))
    proof = draw(_proof_text(language, chosen))
    text = f"{intro} {proof}".strip()
    return Shape(text, language, tuple(refs), tuple((kind, value) for kind, value, _ in chosen))


def _spell_ref(draw: st.DrawFn, number: int) -> str:
    spelled = draw(st.sampled_from(REF_FORMS)).format(n=number)
    return _full_width(spelled) if draw(st.booleans()) else spelled


@st.composite
def follow_ups(draw: st.DrawFn, language: str, target: int) -> Shape:
    """An answer to the bot's question: candidate proofs only, in the conversation's language."""
    chosen = draw(candidates(target, most=3))
    text = draw(_proof_text(language, chosen)) or "?"
    return Shape(text, language, (), tuple((kind, value) for kind, value, _ in chosen))


# ---- what a decision disclosed


def _disclosed(world: World, decision: Decision) -> set[int]:
    """The order numbers a decision told about: any detail in its reply, the order it names, or a
    verification by order details (0 when it names no order)."""
    told = {n for n, known in ORDERS.items() if any(d in (decision.reply or "") for d in known.details)}
    if decision.verification == Verification.ORDER_DETAILS or decision.order_id is not None:
        numbers = {order.shopify_id: order.number for order in world.orders.values()}
        told.add(numbers.get(decision.order_id or 0) or 0)
    return told


def _allowed(shape: Shape) -> set[int]:
    """What a message may disclose on its own: the order it names, if it proves it."""
    return {shape.refs[0]} if shape.proves(shape.refs[0]) else set()


# ---- the properties


@pytest.mark.anyio
@bounded(60)
@given(shape=messages())
@example(  # the message: the order number with a list of postcodes, the right one among them
    shape=Shape(
        "Where is my order #1002? zip 30303, zip 160-0022, zip 999-9999",
        "en",
        (1002,),
        (("zip_code", "30303"), ("zip_code", "160-0022"), ("zip_code", "999-9999")),
    )
)
async def test_a_message_discloses_an_order_only_with_exactly_one_matching_proof_of_a_kind(
    world: World, shape: Shape
) -> None:
    await _seed(world)
    trust = await _fresh_source(world)

    decision, _ = await world.ask(shape.text, trust=trust)

    event(_kind_of(shape))
    assert _disclosed(world, decision) == _allowed(shape), (shape, decision)
    if _allowed(shape):
        assert decision.verification == Verification.ORDER_DETAILS
    if shape.candidates and not _allowed(shape):
        # several candidates, a wrong one, or no such order: the reply wrong details get
        assert decision.verification in (Verification.FAILED, Verification.LIMITED), (shape, decision)
        assert decision.reply in NEUTRAL, (shape, decision)


@st.composite
def conversations(draw: st.DrawFn) -> tuple[Shape, Shape]:
    """A question naming an order (with or without proofs), then an answer carrying proofs only."""
    first = draw(messages(most_refs=2, most_candidates=2))
    return first, draw(follow_ups(first.language, first.refs[0]))


@pytest.mark.anyio
@bounded(40)
@given(conversation=conversations())
@example(  # the bot asks for a proof, and the answer is one
    conversation=(
        Shape("注文番号1001の配送状況を教えてください", "ja", (1001,), ()),
        Shape("〒１５０ー０００１です", "ja", (), (("zip_code", "150-0001"),)),
    )
)
async def test_a_conversation_discloses_only_after_a_message_with_exactly_one_matching_proof(
    world: World, conversation: tuple[Shape, Shape]
) -> None:
    # given a question naming an order, then an answer to the bot's question
    await _seed(world)
    trust = await _fresh_source(world)
    first, second = conversation

    # when both are sent in one conversation
    asked, ticket = await world.ask(first.text, trust=trust)
    answered, _ = await world.ask(second.text, ticket=ticket, trust=trust)

    event(f"first {_kind_of(first)}, then {_kind_of(second, first.refs[0])}")
    # then each discloses only the named order, and only once some message proved it on its own
    target = first.refs[0]
    proved = first.proves(target) or second.proves(target)
    assert _disclosed(world, asked) == _allowed(first), (first, asked)
    assert _disclosed(world, answered) <= ({target} if proved else set()), (first, second, answered)
    if second.proves(target) and asked.action == "ask":
        assert _disclosed(world, answered) == {target}, (first, second, answered)


@pytest.mark.anyio
@bounded(25)
@given(shapes=st.lists(messages(most_refs=4, most_candidates=4), min_size=3, max_size=8))
async def test_one_source_is_cut_off_after_the_limit_whatever_the_messages_look_like(
    world: World, shapes: list[Shape]
) -> None:
    # given one address, one widget conversation per message
    await _seed(world)
    trust = await _fresh_source(world)
    decisions = [(shape, (await world.ask(shape.text, trust=trust))[0]) for shape in shapes]

    # when it then sends a single right postcode for an order
    final, _ = await world.ask("Where is my order #1001? 〒150-0001", trust=trust)

    # then no message disclosed what it did not prove; the answers that said "wrong details" cover fewer
    # tries than the limit; and once the tries reach it, the address is handed to a person
    for shape, decision in decisions:
        assert _disclosed(world, decision) <= _allowed(shape), (shape, decision)
    failed = sum(shape.tries for shape, d in decisions if d.verification == Verification.FAILED)
    assert failed < MAX_FAILED_ATTEMPTS_PER_SOURCE, decisions
    counted = sum(
        shape.tries for shape, d in decisions if d.verification in (Verification.FAILED, Verification.LIMITED)
    )
    event("cut off" if counted >= MAX_FAILED_ATTEMPTS_PER_SOURCE else "within the limit")
    if counted >= MAX_FAILED_ATTEMPTS_PER_SOURCE:
        assert (final.verification, final.action) == (Verification.LIMITED, "handoff"), decisions
        assert _disclosed(world, final) == set()
    first_cut = next((i for i, (_, d) in enumerate(decisions) if _cut_off(d)), None)
    if first_cut is not None:
        assert all(d.verification == Verification.LIMITED for _, d in decisions[first_cut + 1 :] if _tried(d))


def _kind_of(shape: Shape, target: int | None = None) -> str:
    """The shape's class, for Hypothesis's statistics (``--hypothesis-show-statistics``)."""
    if not shape.candidates:
        return "no proof"
    if shape.proves(target or shape.refs[0]):
        return "one matching proof"
    if any(len(shape.distinct(kind)) > 1 for kind in KINDS):
        return "several candidates of a kind"
    return "wrong details or no such order"


def _tried(decision: Decision) -> bool:
    return decision.verification in (Verification.FAILED, Verification.LIMITED, Verification.ORDER_DETAILS)


def _cut_off(decision: Decision) -> bool:
    """Handed to a person because the source had no tries left (not only this conversation)."""
    return decision.verification == Verification.LIMITED and decision.reason.startswith(
        "verification attempts exhausted"
    )
