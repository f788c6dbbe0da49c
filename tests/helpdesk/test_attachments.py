"""What shoppers attach to an email reaches the agents from the conversation: listed with its message, opened
only by the shop's own agents, and served so that a stranger's file never runs as a page on our origin."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.mail.parsing import parse_mail
from shop_app.channels.attachments import served_type
from shop_app.channels.email.addresses import Route
from shop_app.channels.email.inbound import receive_mail
from shop_app.database import transaction
from tests.helpdesk.conftest import ALPHA, BETA, Desk

pytestmark = pytest.mark.anyio


async def mail_with_files(desk: Desk) -> int:
    message = EmailMessage()
    message["From"] = "山田 花子 <hanako@example.com>"
    message["To"] = "help@alpha.example"
    message["Subject"] = "破損の写真"
    message["Message-ID"] = "<photo-1@example.com>"
    message.set_content("届いた商品が割れていました。写真を添付します。")
    message.add_attachment(b"\x89PNG picture", maintype="image", subtype="png", filename="割れ.png")
    message.add_attachment(
        b"<script>alert(document.cookie)</script>", maintype="text", subtype="html", filename="page.html"
    )
    message.add_attachment(b"<svg onload=alert(1)/>", maintype="image", subtype="svg+xml", filename="x.svg")
    mail = parse_mail(message.as_bytes())
    route = Route(shop_id=desk.shop_ids[ALPHA], ticket_id=None, support_address="help@alpha.example")
    async with transaction(desk.services.sessions) as session:
        received = await receive_mail(
            session, route=route, mail=mail, data_dir=desk.services.settings.data_dir
        )
        assert received.ticket is not None and received.ticket.id is not None
        return received.ticket.id


async def test_an_emails_files_are_listed_with_its_message_and_open_for_the_shops_agents(desk: Desk) -> None:
    ticket_id = await mail_with_files(desk)
    await desk.sign_in("agent@alpha.test")
    messages = (await desk.client.get(f"/api/v1/tickets/{ticket_id}/messages")).json()["messages"]
    files = messages[0]["attachments"]
    assert [(f["kind"], f["name"], f["content_type"]) for f in files] == [
        ("image", "割れ.png", "image/png"),
        ("file", "page.html", "text/html"),
        ("image", "x.svg", "image/svg+xml"),
    ]
    picture, page, drawing = [await desk.client.get(f["url"]) for f in files]
    assert picture.status_code == 200 and picture.content == b"\x89PNG picture"
    assert picture.headers["content-type"] == "image/png"
    assert picture.headers["content-disposition"].startswith("inline")
    for served in (picture, page, drawing):
        assert served.headers["x-content-type-options"] == "nosniff"
        assert served.headers["content-security-policy"].startswith("sandbox")
        assert "no-store" in served.headers["cache-control"]
    # a page or a drawing a stranger sent is a download, never a document of our origin
    for served in (page, drawing):
        assert served.headers["content-type"] == "application/octet-stream"
        assert served.headers["content-disposition"].startswith("attachment")


async def test_another_shop_another_ticket_or_no_credentials_never_open_a_file(desk: Desk) -> None:
    ticket_id = await mail_with_files(desk)
    await desk.sign_in("agent@alpha.test")
    messages = (await desk.client.get(f"/api/v1/tickets/{ticket_id}/messages")).json()["messages"]
    url = messages[0]["attachments"][0]["url"]
    attachment_id = int(url.rsplit("/", 1)[1])
    other = (await desk.open_ticket())["id"]
    assert (await desk.client.get(f"/api/v1/tickets/{other}/attachments/{attachment_id}")).status_code == 404
    assert (await desk.client.get(f"/api/v1/tickets/{ticket_id}/attachments/999999")).status_code == 404
    desk.client.cookies.clear()
    assert (await desk.client.get(url)).status_code == 401
    await desk.sign_in("agent@beta.test", shop=BETA)
    assert (await desk.client.get(url)).status_code == 404
    assert (await desk.client.get(url, headers=desk.key(BETA))).status_code == 404
    assert (await desk.client.get(url, headers=desk.key(ALPHA))).status_code == 200


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(declared=st.one_of(st.text(max_size=60), st.sampled_from(["image/svg+xml", "text/html", "IMAGE/PNG"])))
def test_only_raster_pictures_are_ever_shown_inline(declared: str) -> None:
    media_type, disposition = served_type(declared)
    if disposition == "inline":
        assert media_type in {"image/png", "image/jpeg", "image/gif", "image/webp"}
    else:
        assert (media_type, disposition) == ("application/octet-stream", "attachment")
