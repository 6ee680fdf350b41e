"""Bounded metric labels, masked log lines, the [log]/[telemetry] settings, tracing off."""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.tracing import REQUEST_ID, TRACER, agency_span
from gateway.log_setup import JsonFormatter, RequestIdsFilter, TextFormatter
from gateway.settings import SettingsError, load_settings
from gateway.telemetry import Telemetry, trace_id
from gateway.web.request_metrics import MAX_OPERATIONS, RequestMetrics

RESIDENT = "110101199003077715"  # a valid resident id (GB 11643 check digit)


@dataclass
class Op:
    name: str | None
    errors: list[dict[str, Any]] = field(default_factory=list)


def _labels(metrics: RequestMetrics, series: str, label: str) -> set[str]:
    return {
        s.labels[label]
        for family in metrics.collect()
        for s in family.samples
        if s.name == series and label in s.labels
    }


@given(st.lists(st.one_of(st.none(), st.text(max_size=80)), max_size=300))
def test_operation_labels_stay_bounded(names: list[str | None]) -> None:
    metrics = RequestMetrics()
    for name in names:
        metrics.observe_graphql(0.01, None, [Op(name)])
    seen = _labels(metrics, "liandong_graphql_operation_duration_seconds_count", "operation")
    assert len(seen) <= MAX_OPERATIONS + 2
    assert seen <= {n for n in names if n} | {"anonymous", "unknown"}


def test_operations_past_the_bound_are_unknown_and_known_ones_keep_their_label() -> None:
    metrics = RequestMetrics()
    for i in range(MAX_OPERATIONS + 5):
        metrics.observe_graphql(0.01, None, [Op(f"Op{i}")])
    metrics.observe_graphql(0.01, None, [Op("Op0"), Op(None)])
    metrics.observe_graphql(0.01, None, [Op("not a name")])
    metrics.observe_graphql(0.01, "RATE_LIMITED", [])
    counts = {
        s.labels["operation"]: s.value
        for family in metrics.collect()
        for s in family.samples
        if s.name == "liandong_graphql_operation_duration_seconds_count"
    }
    assert counts["Op0"] == 2
    assert counts["unknown"] == 5 + 1 + 1
    assert counts["anonymous"] == 1
    assert f"Op{MAX_OPERATIONS}" not in counts


def test_error_codes_routes_and_methods_are_bounded() -> None:
    metrics = RequestMetrics(routes=["/graphql"])
    metrics.observe_graphql(0.01, None, [Op("A", [{"code": "FORBIDDEN"}, {"code": "<script>"}])])
    metrics.observe_graphql(0.01, "RATE_LIMITED", [])
    metrics.count_http(metrics.route("/wp-admin"), "BREW", 404)
    assert _labels(metrics, "liandong_graphql_errors_total", "code") == {
        "FORBIDDEN",
        "OTHER",
        "RATE_LIMITED",
    }
    assert _labels(metrics, "liandong_http_requests_total", "route") == {"other"}
    assert _labels(metrics, "liandong_http_requests_total", "method") == {"OTHER"}
    assert metrics.route("/graphql") == "/graphql"


def _record(message: str, *args: object, level: int = logging.WARNING) -> logging.LogRecord:
    record = logging.LogRecord("liandong.test", level, __file__, 1, message, args, None)
    RequestIdsFilter().filter(record)
    return record


def test_log_lines_mask_personal_numbers_and_tokens_and_carry_the_ids() -> None:
    token = REQUEST_ID.set("0" * 31 + "a")
    try:
        record = _record("debtor %s sent Bearer eyJhbGciOi.abc.def", RESIDENT)
    finally:
        REQUEST_ID.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert RESIDENT not in line["message"] and "110101********7715" in line["message"]
    assert "eyJhbGciOi" not in line["message"]
    assert line["request_id"] == line["trace_id"] == "0" * 31 + "a"
    assert line["level"] == "WARNING"
    text = TextFormatter().format(record)
    assert RESIDENT not in text and "eyJhbGciOi" not in text and "0" * 31 + "a" in text


def test_outside_a_request_the_ids_are_empty() -> None:
    line = json.loads(JsonFormatter().format(_record("starting")))
    assert line["request_id"] == "" and line["trace_id"] == ""


def test_the_level_drops_lower_records() -> None:
    from gateway.log_setup import configure_logging
    from gateway.telemetry_settings import LogSettings

    root = logging.getLogger()
    level = root.level
    buffer = io.StringIO()
    handler = configure_logging(LogSettings(level="warning", format="json"), stream=buffer)
    try:
        again = configure_logging(LogSettings(level="warning", format="json"), stream=buffer)
        logging.getLogger("liandong.test").info("not written")
        logging.getLogger("liandong.test").error("written once")
    finally:
        root.removeHandler(again)
        root.setLevel(level)
    assert handler not in root.handlers
    lines = buffer.getvalue().splitlines()
    assert [json.loads(line)["message"] for line in lines] == ["written once"]


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"log": {"format": "xml"}}, "format"),
        ({"log": {"level": "LOUD"}}, "level"),
        ({"log": {"colour": True}}, "colour"),
        ({"telemetry": {"otlp_endpoint": "collector:4318"}}, "otlp_endpoint"),
    ],
)
def test_bad_settings_are_named(overrides: dict[str, Any], key: str) -> None:
    with pytest.raises(SettingsError, match=key):
        load_settings(**overrides)


def test_tracing_off_makes_no_span_and_the_trace_id_is_the_request_id() -> None:
    telemetry = Telemetry.from_settings(load_settings().telemetry)
    assert telemetry.tracer is None
    with telemetry.request("f" * 32, "POST", "/graphql", {}) as span:
        assert span is None
        assert TRACER.get() is None
        assert trace_id() == "f" * 32
        with agency_span("civil_affairs", "marriage", 3) as call:
            assert call is None
    assert trace_id() == ""
