"""Shared pieces of the planner tests: one catalog every golden query names."""

from __future__ import annotations

from typing import Any

import pytest


def _cols(*spec: str) -> list[dict[str, Any]]:
    columns = []
    for item in spec:
        name, type_name = item.split(":")
        columns.append({"name": name, "type": type_name, "nullable": True})
    return columns


CATALOG: dict[str, Any] = {
    "streams": [
        {
            "name": "PosSpeedStr",
            "topic": "PosSpeedStr",
            "timestamp": None,
            "format": "json",
            "columns": _cols(
                "car_id:INTEGER",
                "speed:INTEGER",
                "exp_way:INTEGER",
                "lane:INTEGER",
                "dir:INTEGER",
                "x_pos:INTEGER",
            ),
        },
        {
            "name": "S",
            "topic": "S",
            "timestamp": None,
            "format": "json",
            "columns": _cols("A:INTEGER", "B:INTEGER", "C:VARCHAR"),
        },
        {
            "name": "S1",
            "topic": "S1",
            "timestamp": None,
            "format": "json",
            "columns": _cols("A:INTEGER", "B:DOUBLE"),
        },
        {
            "name": "S2",
            "topic": "S2",
            "timestamp": None,
            "format": "json",
            "columns": _cols("A:INTEGER", "D:VARCHAR"),
        },
        {
            "name": "Bid",
            "topic": "bid",
            "timestamp": "date_time",
            "format": "json",
            "columns": _cols(
                "auction:BIGINT",
                "bidder:BIGINT",
                "price:BIGINT",
                "channel:VARCHAR",
                "url:VARCHAR",
                "date_time:TIMESTAMP",
            ),
        },
        # partitioned streams (docs/plan-json.md "Stages"): records hashed by "key"
        {
            "name": "Orders",
            "topic": "orders",
            "timestamp": None,
            "format": "json",
            "partitions": 6,
            "key": ["customer"],
            "columns": _cols("customer:INTEGER", "item:INTEGER", "qty:INTEGER"),
        },
        {
            "name": "Payments",
            "topic": "payments",
            "timestamp": None,
            "format": "json",
            "partitions": 6,
            "key": ["customer"],
            "columns": _cols("customer:INTEGER", "amount:INTEGER"),
        },
        {
            "name": "Items",
            "topic": "items",
            "timestamp": None,
            "format": "json",
            "partitions": 6,
            "key": ["sku"],
            "columns": _cols("sku:INTEGER", "price:INTEGER"),
        },
        {
            "name": "Clicks",
            "topic": "clicks",
            "timestamp": None,
            "format": "json",
            "partitions": 4,
            "columns": _cols("page:INTEGER", "visitor:INTEGER"),
        },
    ],
    "tables": [
        {
            "name": "R",
            "topic": "R",
            "format": "json",
            "primary_key": ["A"],
            "columns": _cols("A:INTEGER", "NAME:VARCHAR"),
        },
        {
            "name": "Person",
            "topic": "person",
            "format": "json",
            "primary_key": ["id"],
            "columns": _cols("id:BIGINT", "name:VARCHAR", "city:VARCHAR", "state:VARCHAR"),
        },
    ],
    "views": [
        {
            "name": "FastCars",
            "query": "SELECT car_id, speed FROM PosSpeedStr WHERE speed > 65",
            "columns": [],
        },
        {
            "name": "RecentCounts",
            "query": "SELECT A, COUNT(*) AS N FROM S [RANGE 10 SECONDS] GROUP BY A",
            "columns": [],
        },
    ],
}


@pytest.fixture(scope="session")
def catalog() -> dict[str, Any]:
    return CATALOG
