"""Shapes of a shop's desk settings: business hours (opening times per weekday, a time zone, holidays) and
the first-response target per channel. What is stored on the shop is exactly ``BusinessHours`` dumped."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from zoneinfo import available_timezones

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from shop_app.models.helpdesk import Channel
from shop_app.schemas.tickets import whole_number

MAX_HOLIDAYS = 200
MAX_TARGET_MINUTES = 14 * 24 * 60
OPENS_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
CLOSES_PATTERN = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class SettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class OpenHours(SettingsIn):
    opens: str = Field(pattern=OPENS_PATTERN, examples=["09:00"])
    closes: str = Field(pattern=CLOSES_PATTERN, description="24:00 closes at midnight", examples=["18:00"])


# every IANA zone this machine knows, so that the document says exactly which names are taken
TIME_ZONES = tuple(sorted(available_timezones()))
TimeZoneName = Literal[TIME_ZONES]  # type: ignore[valid-type]


class BusinessHours(SettingsIn):
    timezone: TimeZoneName | None = Field(default=None, description="An IANA time zone; null: the shop's own")
    week: dict[Weekday, OpenHours] = Field(
        description="Open days with their hours; a day not named is closed"
    )
    holidays: list[date] = Field(
        default_factory=list, max_length=MAX_HOLIDAYS, description="Closed all day, in the hours' time zone"
    )


class DeskSettings(BaseModel):
    business_hours: BusinessHours | None = Field(description="null: always open")
    first_response_minutes: dict[Channel, int] = Field(
        description="Open minutes within which a person should first answer, per channel"
    )
    shop_timezone: str | None = Field(description="The shop's own time zone, from Shopify")


class DeskSettingsIn(SettingsIn):
    business_hours: BusinessHours | None = Field(
        description="null: always open. A day whose closing time is not after its opening time is refused "
        "(422): overnight hours are not supported"
    )
    first_response_minutes: dict[
        Channel, Annotated[int, Field(ge=1, le=MAX_TARGET_MINUTES), BeforeValidator(whole_number)]
    ] = Field(
        default_factory=dict, description="Channels not named keep the default (chat and LINE 60, email 1440)"
    )
