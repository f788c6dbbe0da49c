"""``shop-app mail`` listens for SMTP, says on which port, and refuses a recipient it does not know."""

from __future__ import annotations

import os
import re
import smtplib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT


@pytest.mark.slow
def test_the_mail_command_listens_and_refuses_unknown_recipients(tmp_path: Path) -> None:
    env = {**os.environ, "SHOP_APP_DATA_DIR": str(tmp_path), "SHOP_APP_MAIL_PORT": "0"}
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "-m", "shop_app", "migrate"],
        env=env,
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "shop_app", "mail"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(r"listening for SMTP on port (\d+)", line)
        assert found, line
        with smtplib.SMTP("127.0.0.1", int(found.group(1)), timeout=10) as smtp:
            smtp.ehlo()
            smtp.mail("taro@example.com")
            code, _ = smtp.rcpt("victim@example.org")
        assert code == 550
    finally:
        process.terminate()
        process.wait(timeout=20)
        if process.stdout is not None:
            process.stdout.close()
