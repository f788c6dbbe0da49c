"""The deploy folder passes its tools' own validators: nginx -t for the reverse proxy (with a throwaway
certificate in place of the real one), systemd-analyze verify for the units, and the environment template
lists every setting the app reads."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.factories import self_signed_certificate

PROJECT = Path(__file__).resolve().parents[1]
DEPLOY = PROJECT / "deploy"


def tool(name: str, *also: str) -> str:
    for candidate in (name, *also):
        found = shutil.which(candidate) or next(
            (str(p) for p in (Path("/usr/sbin") / candidate, Path("/sbin") / candidate) if p.exists()), None
        )
        if found:
            return found
    pytest.fail(f"{name} is missing: ./scripts/test installs it from Debian's packages")


def nginx_check(tmp_path: Path, site: str) -> subprocess.CompletedProcess[str]:
    cert, key = self_signed_certificate(tmp_path)
    site = site.replace("/etc/ssl/shop-app/fullchain.pem", str(cert)).replace(
        "/etc/ssl/shop-app/privkey.pem", str(key)
    )
    site = site.replace("/var/log/nginx/", f"{tmp_path}/")
    (tmp_path / "shop-app.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  include {tmp_path}/shop-app.conf;\n}}\n"
    )
    return subprocess.run(  # noqa: S603  (our own tools, found on PATH)
        [tool("nginx"), "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_reverse_proxy_passes_nginx_t(tmp_path: Path) -> None:
    checked = nginx_check(tmp_path, (DEPLOY / "nginx" / "shop-app.conf").read_text())
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr and "[warn]" not in checked.stderr, checked.stderr


def test_nginx_t_would_catch_a_broken_proxy(tmp_path: Path) -> None:
    broken = (
        (DEPLOY / "nginx" / "shop-app.conf")
        .read_text()
        .replace("proxy_pass http://shop_app;", "proxy_pas x;", 1)
    )
    assert nginx_check(tmp_path, broken).returncode != 0


def units(tmp_path: Path) -> list[Path]:
    """The units with their programs pointed at ones that exist here (verify checks ExecStart exists)."""
    copies = []
    for unit in sorted((DEPLOY / "systemd").glob("*.service")):
        text = unit.read_text().replace(
            "/opt/shop-app/venv/bin/shop-app", shutil.which("true") or "/bin/true"
        )
        name = unit.name.replace("@.service", "@1.service")
        (tmp_path / unit.name).write_text(text)
        if name != unit.name:
            (tmp_path / name).symlink_to(tmp_path / unit.name)
        copies.append(tmp_path / name)
    return copies


def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    found = units(tmp_path)
    assert {path.name for path in found} == {
        "shop-app-web.service",
        "shop-app-worker@1.service",
        "shop-app-mail.service",
    }
    checked = subprocess.run(  # noqa: S603  (our own tools, found on PATH)
        [tool("systemd-analyze"), "verify", *map(str, found)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert checked.returncode == 0, checked.stderr
    ours = [line for line in checked.stderr.splitlines() if "shop-app" in line]
    assert ours == [], checked.stderr


def test_systemd_analyze_would_catch_a_broken_unit(tmp_path: Path) -> None:
    (tmp_path / "broken.service").write_text("[Service]\nExecStart=relative/shop-app serve\n")
    checked = subprocess.run(  # noqa: S603  (our own tools, found on PATH)
        [tool("systemd-analyze"), "verify", str(tmp_path / "broken.service")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode != 0


def test_the_environment_template_lists_every_setting_the_app_reads() -> None:
    read = set()
    for source in (PROJECT / "shop_app").rglob("*.py"):
        read |= set(re.findall(r'"((?:SHOP_APP|SHOPIFY)_[A-Z0-9_]+|DATABASE_URL|PORT)"', source.read_text()))
    read -= {"SHOP_APP_AGENT_PASSWORD"}  # a prompt's answer for one command, not a setting of the service
    template = (DEPLOY / "shop-app.env.example").read_text()
    listed = set(
        re.findall(r"^#?((?:SHOP_APP|SHOPIFY)_[A-Z0-9_]+|DATABASE_URL|PORT)=", template, re.MULTILINE)
    )
    assert read - listed == set(), "settings missing from deploy/shop-app.env.example"
    assert listed - read == set(), "the template lists settings the app does not read"
