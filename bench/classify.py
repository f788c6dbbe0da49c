"""Message classification throughput: ``understand`` in this process, and ``shop-app classify`` fed the
messages on standard input (one process, start-up included).

The messages are the labelled corpus's texts, repeated to ``--messages``; a shop prefix and product titles
are given so every finder runs.

    python bench/classify.py [--messages 20000] [--corpus tests/answers/corpus.jsonl]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from itertools import cycle, islice
from pathlib import Path

from shop_app.answers.understanding import ShopHints, understand

HINTS = ShopHints(
    order_prefix="SHOP-",
    order_suffix="-JP",
    default_region="JP",
    product_titles=("Linen Shirt", "Canvas Tote", "リネンシャツ", "ウールコート"),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--corpus", default="tests/answers/corpus.jsonl")
    args = parser.parse_args()
    texts = [json.loads(line)["text"] for line in Path(args.corpus).read_text(encoding="utf-8").splitlines()]
    messages = list(islice(cycle(texts), args.messages))

    # in process: three rounds, the best and the median
    rates = []
    latencies: list[float] = []
    for _ in range(3):
        started = time.perf_counter()
        for text in messages:
            before = time.perf_counter()
            understand(text, hints=HINTS)
            latencies.append(time.perf_counter() - before)
        rates.append(len(messages) / (time.perf_counter() - started))
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1e6
    p99 = latencies[int(len(latencies) * 0.99)] * 1e6
    print(
        f"understand(): {statistics.median(rates):,.0f} messages/s median, {max(rates):,.0f} best "
        f"({len(messages)} messages × 3); per message p50 {p50:.0f} µs, p99 {p99:.0f} µs"
    )

    # the command line, messages on stdin
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "shop_app.cli", "classify", "--order-prefix", "SHOP-", "--order-suffix=-JP"],
        input="\n".join(text.replace("\n", " ") for text in messages) + "\n",
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.perf_counter() - started
    lines = result.stdout.count("\n")
    print(
        f"shop-app classify (stdin): {lines / elapsed:,.0f} messages/s ({lines} messages in {elapsed:.2f} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
