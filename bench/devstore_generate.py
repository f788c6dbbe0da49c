"""Time and peak memory of generating the simulated store's data (both default shops), in a child
process so the figure is the generator's alone.

    python bench/devstore_generate.py --orders 100000 [--orders 1000000 ...]

``--orders`` is the total over both shops; customers and products scale with it as in the issue's runs.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def generate(total_orders: int) -> tuple[float, float, int]:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-generate-"))
    per_shop = total_orders // 2
    command = [
        sys.executable,
        "-m",
        "devstore.cli",
        "generate",
        "--data-dir",
        str(data_dir),
        "--orders",
        str(per_shop),
        "--customers",
        str(max(200, per_shop // 10)),
        "--products",
        "80",
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run(
        command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True, stdout=subprocess.DEVNULL
    )
    elapsed = time.perf_counter() - started
    peak_kib = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    size = sum(f.stat().st_size for f in data_dir.iterdir())
    for f in data_dir.iterdir():
        f.unlink()
    data_dir.rmdir()
    return elapsed, peak_kib / 1024, size


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, action="append", help="total orders (repeatable)")
    args = parser.parse_args()
    for total in args.orders or [100_000]:
        elapsed, peak_mib, size = generate(total)
        print(
            f"{total:>9,} orders: {elapsed:7.1f} s ({total / elapsed:,.0f} orders/s), "
            f"peak memory {peak_mib:.0f} MiB, {size / 1e6:,.0f} MB on disk"
        )


if __name__ == "__main__":
    main()
