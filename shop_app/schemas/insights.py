"""Shapes of the Insights figures (``GET /api/v1/insights``): the headline numbers of a period beside the
previous period's, one row per day in the shop's time zone, and the breakdowns (speed per channel and agent,
handoff reasons, where-is-my-order states and carriers, stock questions, satisfaction)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class Headline(BaseModel):
    orders: int
    tickets: int
    inquiries_per_100_orders: float | None = Field(description="tickets per 100 orders; null without orders")
    bot_resolved: int = Field(description="closed by the bot and not re-contacted within the window")
    honestly_resolved: int = Field(
        description="closed (bot or person) and not re-contacted within the window"
    )
    resolved: int = Field(description="closed, whether or not the customer came back")
    awaiting_window: int = Field(description="closed, with the re-contact window still running")
    recontacted: int
    handed_off: int
    automation_rate: float | None = Field(description="bot_resolved / tickets")
    honest_resolution_rate: float | None = Field(description="honestly_resolved / tickets")
    recontact_rate: float | None = Field(
        description="recontacted / tickets ever closed (resolved now, or reopened since)"
    )
    handoff_rate: float | None = Field(description="handed_off / tickets")
    first_response_median_minutes: float | None
    first_response_p90_minutes: float | None
    resolution_median_minutes: float | None
    resolution_p90_minutes: float | None
    first_response_target_met_rate: float | None
    csat_sent: int
    csat_answered: int
    csat_average: float | None = Field(description="mean score of the answers, 1–5")
    csat_satisfied_rate: float | None = Field(description="share of answers scored 4 or 5")


class DayRow(BaseModel):
    day: date
    orders: int
    tickets: int
    inquiries_per_100_orders: float | None
    bot_resolved: int
    honestly_resolved: int
    recontacted: int
    handed_off: int
    first_response_median_minutes: float | None
    csat_average: float | None


class Speed(BaseModel):
    key: str = Field(description="a channel, an agent's id, or 'bot'")
    tickets: int
    first_response_median_minutes: float | None
    first_response_p90_minutes: float | None
    resolution_median_minutes: float | None
    resolution_p90_minutes: float | None
    first_response_target_met_rate: float | None


class Count(BaseModel):
    key: str
    count: int


class StockCount(BaseModel):
    product: str
    variant: str | None
    count: int
    sold_out_asks: int = Field(description="asked while sold out: demand for it back in stock")


class Satisfaction(BaseModel):
    key: str = Field(description="a channel, an agent's id, or 'bot'")
    sent: int
    answered: int
    average: float | None
    satisfied_rate: float | None


class InsightsOut(BaseModel):
    start: date
    end: date
    timezone: str
    business_hours: bool = Field(description="times are counted in the shop's business hours")
    recontact_window_days: int
    current: Headline
    previous: Headline = Field(description="the same number of days just before start")
    days: list[DayRow]
    speed_by_channel: list[Speed]
    speed_by_agent: list[Speed]
    handoff_reasons: list[Count]
    handoff_intents: list[Count]
    wismo_by_state: list[Count]
    wismo_by_carrier: list[Count]
    stock_questions: list[StockCount]
    csat_by_channel: list[Satisfaction]
    csat_by_agent: list[Satisfaction]
