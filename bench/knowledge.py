"""Policy and FAQ retrieval for one shop: building the index and answering a question, beside a trivial
baseline (a linear scan counting shared words), and the Japanese tokenisers compared.

The shop has ``--entries`` FAQ entries (three Japanese and three English question variants each, on
generated topics) and the simulated store's full policies in both languages, each repeated ``--policy-copies``
times as further sections, as long policies are. Figures are ratios to the baseline measured in the same
run. Accuracy is measured on a small labelled set of shopper questions about the demo policies and a few
hand-written entries: the share answered confidently from the right passage or entry, and the share
answered confidently from a wrong one (what a shopper would be told wrongly).

With SudachiPy and its core dictionary installed (``pip install sudachipy sudachidict_core``; not a
dependency of the app), the same figures are printed for Japanese tokenised by SudachiPy (mode C, content
words' normalised forms) instead of character bigrams.

    python bench/knowledge.py [--entries 500] [--policy-copies 4] [--queries 2000]
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import cycle, islice

from devstore.generator.policies import policy_docs
from shop_app.knowledge.search import KnowledgeBase, Tokeniser, build_knowledge
from shop_app.knowledge.tokens import tokenise
from shop_app.models import FaqEntry, ShopPolicy

# Generated topics, none of them what the labelled questions ask about.
TOPICS_JA = ["刺繍", "名入れ", "修理", "法人注文", "卸売", "採寸", "撮影", "取材", "保管", "梱包資材"]
TOPICS_EN = ["embroidery", "engraving", "repair", "corporate", "wholesale", "measuring", "photo", "press"]
_NOW = datetime(2026, 12, 1, tzinfo=UTC)
FORMS_JA = ["{}について教えてください", "{}はありますか", "{}の条件は？"]
FORMS_EN = ["Tell me about {}", "Do you have {}?", "How does {} work?"]

HAND_WRITTEN = [
    FaqEntry(
        id=900001,
        shop_id=1,
        questions_ja=["店舗はどこにありますか", "実店舗で試着できますか"],
        questions_en=["Where are your stores?", "Can I try things on in a store?"],
        answer_ja="東京・渋谷と大阪・梅田に直営店がございます。",
        answer_en="We have stores in Shibuya, Tokyo and Umeda, Osaka.",
    ),
    FaqEntry(
        id=900002,
        shop_id=1,
        questions_ja=["ポイントは貯まりますか", "ポイント制度はありますか"],
        questions_en=["Do you have a points program?", "Can I earn points?"],
        answer_ja="お買い上げ100円につき1ポイント貯まります。",
        answer_en="You earn one point per 100 yen spent.",
    ),
]

# (question, language, the source that should answer it)
LABELLED = [
    ("送料はいくらですか", "ja", "policy:SHIPPING_POLICY#2"),
    ("送料無料になる条件は？", "ja", "policy:SHIPPING_POLICY#2"),
    ("海外発送はしていますか？", "ja", "policy:SHIPPING_POLICY#4"),
    ("沖縄までは何日かかりますか", "ja", "policy:SHIPPING_POLICY#3"),
    ("配送業者はどこですか", "ja", "policy:SHIPPING_POLICY#3"),
    ("返品はできますか", "ja", "policy:REFUND_POLICY#1"),
    ("サイズ交換はできますか", "ja", "policy:REFUND_POLICY#2"),
    ("返金はいつになりますか", "ja", "policy:REFUND_POLICY#3"),
    ("営業時間を教えてください", "ja", "policy:CONTACT_INFORMATION#1"),
    ("支払い方法は何がありますか", "ja", "policy:CONTACT_INFORMATION#2"),
    ("ギフトラッピングはできますか", "ja", "policy:CONTACT_INFORMATION#3"),
    ("実店舗はありますか", "ja", "faq:900001"),
    ("ポイント制度について知りたい", "ja", "faq:900002"),
    ("What are your shipping costs?", "en", "policy:SHIPPING_POLICY#2"),
    ("Do you ship to Japan?", "en", "policy:SHIPPING_POLICY#4"),
    ("How long does standard delivery take?", "en", "policy:SHIPPING_POLICY#3"),
    ("Can I exchange for a different size?", "en", "policy:REFUND_POLICY#2"),
    ("Can sale items be returned?", "en", "policy:REFUND_POLICY#1"),
    ("When will my refund go back to my card?", "en", "policy:REFUND_POLICY#3"),
    ("What are your business hours?", "en", "policy:CONTACT_INFORMATION#1"),
    ("Which payment methods do you accept?", "en", "policy:CONTACT_INFORMATION#2"),
    ("Do you do gift wrapping?", "en", "policy:CONTACT_INFORMATION#3"),
    ("Where are your stores?", "en", "faq:900001"),
]


def generated_entries(count: int, rng: random.Random) -> list[FaqEntry]:
    entries = []
    for number in range(1, count + 1):
        ja = f"{rng.choice(TOPICS_JA)}{rng.choice(TOPICS_JA)}{number}"
        en = f"{rng.choice(TOPICS_EN)} {rng.choice(TOPICS_EN)} {number}"
        entries.append(
            FaqEntry(
                id=number,
                shop_id=1,
                questions_ja=[form.format(ja) for form in FORMS_JA],
                questions_en=[form.format(en) for form in FORMS_EN],
                answer_ja=f"{ja}についてのご案内です。",
                answer_en=f"About {en}.",
            )
        )
    return entries


def full_policies(copies: int) -> list[ShopPolicy]:
    policies = []
    for japanese in (True, False):
        for doc in policy_docs(shop_id=1, domain="shop.example", japanese=japanese, created_at=_NOW):
            body = doc["body"] + "".join(
                f"<h2>{copy}</h2>{doc['body'].replace('<h2>', '<h3>')}" for copy in range(2, copies + 1)
            )
            policies.append(
                ShopPolicy(
                    id=len(policies) + 1,
                    shop_id=1,
                    policy_type=doc["type"] if japanese else f"{doc['type']}",
                    title=doc["title"],
                    body=body,
                    url=doc["url"],
                )
            )
    return policies


def baseline_search(base: KnowledgeBase, documents: list[set[str]], text: str) -> int | None:
    """The trivial baseline: scan every document, count the question's words it holds."""
    words = set(base.tokeniser(text))
    best, best_count = None, 0
    for number, document in enumerate(documents):
        shared = len(words & document)
        if shared > best_count:
            best, best_count = number, shared
    return best


def timed(call: Callable[[], object], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * share), len(ordered) - 1)]


def sudachi_tokeniser() -> Tokeniser | None:
    try:
        from sudachipy import dictionary, tokenizer  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    mode = tokenizer.Tokenizer.SplitMode.C
    analyser = dictionary.Dictionary().tokenizer(mode=mode)
    content = {"名詞", "動詞", "形容詞", "形状詞", "副詞"}

    def words(text: str) -> list[str]:
        japanese = [
            m.normalized_form()
            for m in analyser.tokenize(text[:2000])
            if m.part_of_speech()[0] in content and not m.surface().isascii()
        ]
        return japanese + [t for t in tokenise(text) if t.isascii()]

    return words


def measure(
    name: str, tokeniser: Tokeniser, entries: list[FaqEntry], policies: list[ShopPolicy], queries: int
) -> None:
    builds = timed(lambda: build_knowledge(entries, policies, tokeniser=tokeniser), 3)
    build = statistics.median(builds)
    tracemalloc.start()
    base = build_knowledge(entries, policies, tokeniser=tokeniser)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    documents = [
        set(tokeniser(source.title if source.kind == "faq" else source.text)) for source in base.sources
    ]

    questions = list(islice(cycle([q for q, _, _ in LABELLED]), queries))
    bm25 = [t for q in questions for t in timed(lambda q=q: base.search(q, limit=1), 1)]
    scan = [t for q in questions for t in timed(lambda q=q: baseline_search(base, documents, q), 1)]

    right = wrong = 0
    for question, language, expected in LABELLED:
        [best, *_] = base.search(question, language=language, limit=1) or [None]
        if best is not None and best.confident:
            if best.source.label == expected:
                right += 1
            else:
                wrong += 1
    total = len(LABELLED)
    print(
        f"{name}: {len(base.sources)} documents, index built in {build * 1000:.0f} ms (median of 3), peak {peak / 1e6:.1f} MB"
    )
    print(
        f"  query p50 {statistics.median(bm25) * 1e6:.0f} µs, p99 {percentile(bm25, 0.99) * 1e6:.0f} µs; "
        f"baseline scan p50 {statistics.median(scan) * 1e6:.0f} µs, p99 {percentile(scan, 0.99) * 1e6:.0f} µs; "
        f"BM25/baseline p50 {statistics.median(bm25) / statistics.median(scan):.2f}×, "
        f"p99 {percentile(bm25, 0.99) / percentile(scan, 0.99):.2f}×"
    )
    print(
        f"  labelled questions: {right} of {total} answered from the right source ({right / total:.0%}), "
        f"{wrong} answered from a wrong one ({wrong / total:.0%})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=500)
    parser.add_argument("--policy-copies", type=int, default=8)
    parser.add_argument("--queries", type=int, default=2000)
    args = parser.parse_args()
    entries = [*generated_entries(args.entries, random.Random(17)), *HAND_WRITTEN]
    policies = full_policies(args.policy_copies)
    print(
        f"{len(entries)} FAQ entries, {len(policies)} policies ({sum(len(p.body) for p in policies):,} characters)"
    )
    measure("character bigrams (the app's)", tokenise, entries, policies, args.queries)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    sudachi = sudachi_tokeniser()
    if sudachi is None:
        print("SudachiPy: not installed (pip install sudachipy sudachidict_core to compare)")
    else:
        sudachi("辞書を読み込む")
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        print(
            f"SudachiPy: dictionary loaded in {(time.perf_counter() - started) * 1000:.0f} ms, "
            f"process memory +{grown:.0f} MB"
        )
        measure("SudachiPy mode C", sudachi, entries, policies, args.queries)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
