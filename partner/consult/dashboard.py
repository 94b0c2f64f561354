"""The consultation dashboard's numbers: volumes and turnaround by entity or country, and how often
recommendations were followed, by entity."""

from __future__ import annotations

from typing import Any

import pandas as pd
from django.db.models import QuerySet

from .models import Adherence, Consultation, ConsultationStatus

HOURS = 3600.0


def frame(consultations: QuerySet[Consultation], language: str = "en") -> pd.DataFrame:
    rows = consultations.values(
        "pk",
        "status",
        "urgency",
        "submitted_at",
        "due",
        "first_response_at",
        "sent_at",
        "case__entity__code",
        "case__entity__names",
        "case__centre__country__code",
        "adherence__followed",
    )
    columns = [
        "pk",
        "status",
        "urgency",
        "submitted_at",
        "due",
        "first_response_at",
        "sent_at",
        "entity",
        "names",
        "country",
        "followed",
    ]
    data = pd.DataFrame.from_records(list(rows.values_list(*rows.query.values_select)), columns=columns)
    if data.empty:
        return data.assign(entity_name=pd.Series(dtype="object"))
    data["entity_name"] = [
        names.get(language, code) if isinstance(names, dict) else code
        for names, code in zip(data["names"], data["entity"], strict=True)
    ]
    for column in ("submitted_at", "due", "first_response_at", "sent_at"):
        data[column] = pd.to_datetime(data[column], utc=True)
    data["days_to_first_response"] = (data["first_response_at"] - data["submitted_at"]).dt.total_seconds() / (
        24 * HOURS
    )
    data["days_to_recommendation"] = (data["sent_at"] - data["submitted_at"]).dt.total_seconds() / (24 * HOURS)
    data["on_time"] = (data["sent_at"] <= data["due"]).where(data["sent_at"].notna())
    return data


def turnaround(data: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per group: requests, sent, median days to the first expert response and to the recommendation,
    and the share sent on time. Withdrawn requests count as requests only."""
    if data.empty:
        return pd.DataFrame(
            columns=["group", "requests", "open", "sent", "first_response_days", "recommendation_days", "on_time"]
        )
    key = "entity_name" if by == "entity" else "country"
    grouped = data.groupby(key, dropna=False)
    table = pd.DataFrame(
        {
            "requests": grouped.size(),
            "open": grouped["status"].agg(
                lambda s: int(s.isin([ConsultationStatus.SUBMITTED, ConsultationStatus.ASSIGNED]).sum())
            ),
            "sent": grouped["sent_at"].count(),
            "first_response_days": grouped["days_to_first_response"].median(),
            "recommendation_days": grouped["days_to_recommendation"].median(),
            "on_time": grouped["on_time"].agg(
                lambda s: s.dropna().astype(float).mean() if s.notna().any() else float("nan")
            ),
        }
    )
    return table.rename_axis("group").reset_index().sort_values("requests", ascending=False, kind="stable")


def adherence(data: pd.DataFrame) -> pd.DataFrame:
    """Per entity, of the sent recommendations whose follow-up is recorded: followed, partly, not."""
    columns = ["group", "sent", "recorded", *Adherence.Followed.values]
    if data.empty:
        return pd.DataFrame(columns=columns)
    sent = data[data["status"] == ConsultationStatus.SENT]
    rows: list[dict[str, Any]] = []
    for name, group in sent.groupby("entity_name", dropna=False):
        counts = group["followed"].value_counts()
        rows.append(
            {
                "group": name,
                "sent": len(group),
                "recorded": int(group["followed"].notna().sum()),
                **{value: int(counts.get(value, 0)) for value in Adherence.Followed.values},
            }
        )
    return pd.DataFrame(rows, columns=columns).sort_values("sent", ascending=False, kind="stable")
