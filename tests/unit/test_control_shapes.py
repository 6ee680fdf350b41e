"""The shared parsers of the control shapes, and the one status check of a control order.

``control_receipt`` reads every agency's answer to an order; ``parse_control`` reads every
seizure or freeze an agency lists on an asset. Whatever shape they get (fields missing, of
the wrong type, unknown words, odd Unicode, XML text for numbers), the result is what the
data stands for or an ``AgencyBadResponse`` naming the first bad field: never a crash.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors import lr_control, mr_control, ps_control
from connectors.control import ControlReceipt, ReceiptStatus
from connectors.control_submit import AnswerShape, control_receipt, raise_for_status
from connectors.domain import Control, ControlKind
from connectors.http import HttpReply
from connectors.parsing import Record, parse_control
from gateway.errors import AgencyBadResponse, AgencyRejected, AgencyUnavailable

# (agency, the record's path in the reply, XML text or JSON values, the agency's shape)
SHAPES: dict[str, tuple[str, str, bool, AnswerShape]] = {
    "public_security": ("public_security", "", False, ps_control.ANSWER),
    "market_regulation": ("market_regulation", "data", False, mr_control.ANSWER),
    "land_registry": ("land_registry", "Ticket", True, lr_control.ANSWER),
}

ODD_TEXT = st.text(
    st.characters(codec="utf-8") | st.sampled_from("\u200b\u202e\ufeff０１２"),
    max_size=12,
)
ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True),
    ODD_TEXT,
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    # Three good values to one bad: one_of would flatten ``bad``'s many branches and draw
    # them far more often, so whole well-formed answers would hardly ever be drawn.
    return st.integers(min_value=0, max_value=3).flatmap(lambda n: bad if n == 0 else good)


def _answers(shape: AnswerShape, xml: bool) -> st.SearchStrategy[dict[str, Any]]:
    words = st.sampled_from(sorted(shape.statuses))
    # Small numbers around zero often (a negative queue position is bad), large ones too.
    numbers = st.integers(min_value=-3, max_value=3) | st.integers(min_value=0, max_value=10**6)
    queue = numbers.map(str) if xml else numbers
    fields = {
        shape.status: _mostly(words, ANY_VALUE),
        shape.reference: _mostly(ODD_TEXT, ANY_VALUE),
        shape.queue: _mostly(queue, ODD_TEXT if xml else ANY_VALUE),
        shape.reason: _mostly(st.none() | ODD_TEXT, ANY_VALUE),
    }
    # Each field present or absent (present more often: absent fails at the first one).
    missing = st.sets(st.sampled_from(sorted(fields)), max_size=2)
    return st.tuples(st.fixed_dictionaries(fields), missing).map(
        lambda drawn: {k: v for k, v in drawn[0].items() if k not in drawn[1]}
    )


def _expected(data: dict[str, Any], shape: AnswerShape, xml: bool) -> ControlReceipt | str:
    """The receipt the answer stands for, or the name of its first bad field (an oracle
    written from the agencies' documented shapes, not from the parser)."""
    said = data.get(shape.status)
    if not isinstance(said, str) or said not in shape.statuses:
        return shape.status
    status = shape.statuses[said]
    if status is ReceiptStatus.REJECTED:
        reason = data.get(shape.reason)
        if reason is not None and not isinstance(reason, str):
            return shape.reason
        return ControlReceipt(status, ticket="T-1", reply=reason or said)
    reference = data.get(shape.reference)
    if not isinstance(reference, str):
        return shape.reference
    queue = data.get(shape.queue)
    # XML carries numbers as text: plain ASCII digits only (no full-width ones), 18 at most.
    if xml and isinstance(queue, str) and re.fullmatch(r"-?[0-9]{1,18}", queue):
        queue = int(queue)
    if not isinstance(queue, int) or isinstance(queue, bool) or queue < 0:
        return shape.queue
    return ControlReceipt(
        status, reference=reference, ticket="T-1", queue_position=queue, reply=said
    )


@pytest.mark.parametrize("agency", list(SHAPES))
@settings(max_examples=400)
@given(data=st.data())
def test_any_answer_is_its_receipt_or_a_bad_response_naming_the_field(
    agency: str, data: st.DataObject
) -> None:
    name, path, xml, shape = SHAPES[agency]
    answer = data.draw(_answers(shape, xml))
    expected = _expected(answer, shape, xml)
    record = Record(name, answer, path, xml=xml)
    if isinstance(expected, ControlReceipt):
        assert control_receipt(record, shape, ticket="T-1") == expected
        return
    with pytest.raises(AgencyBadResponse) as caught:
        control_receipt(record, shape, ticket="T-1")
    err = caught.value
    assert err.code == "AGENCY_BAD_RESPONSE" and err.agency == name
    assert err.extra["field"] == (f"{path}.{expected}" if path else expected)


@given(body=st.one_of(st.none(), ANY_VALUE))
def test_an_answer_that_is_no_object_is_a_bad_response(body: object) -> None:
    with pytest.raises(AgencyBadResponse):
        control_receipt(Record("public_security", body, ""), ps_control.ANSWER)


@pytest.mark.parametrize("agency", list(SHAPES))
def test_each_agency_names_its_own_fields(agency: str) -> None:
    name, path, xml, shape = SHAPES[agency]
    done = next(word for word, s in shape.statuses.items() if s is ReceiptStatus.QUEUED)
    answer = {shape.status: done, shape.reference: "C-9", shape.queue: "2" if xml else 2}
    receipt = control_receipt(Record(name, answer, path, xml=xml), shape)
    assert receipt == ControlReceipt(
        ReceiptStatus.QUEUED, reference="C-9", queue_position=2, reply=done
    )


def _reply(status: int, body: bytes = b"") -> HttpReply:
    return HttpReply(status, {"Content-Type": "application/json"}, body)


@given(status=st.integers(min_value=100, max_value=599), code=st.one_of(st.none(), ODD_TEXT))
def test_a_refused_status_raises_its_agency_error_with_a_plain_code_only(
    status: int, code: str | None
) -> None:
    asked: list[int] = []

    def error_code(reply: HttpReply) -> str | None:
        asked.append(reply.status)
        return code

    if 200 <= status < 300:
        raise_for_status(_reply(status), "land_registry", error_code)
        assert asked == []  # a 2xx body is an answer, not an error to read a code from
        return
    with pytest.raises((AgencyRejected, AgencyUnavailable, AgencyBadResponse)) as caught:
        raise_for_status(_reply(status), "land_registry", error_code)
    err = caught.value
    assert asked == [status]
    expected = (
        AgencyUnavailable
        if status >= 500
        else AgencyRejected
        if status >= 400
        else AgencyBadResponse
    )
    assert type(err) is expected and err.extra["httpStatus"] == status
    # Only a short plain token of the agency's body reaches the client.
    plain = code is not None and code.isascii() and 0 < len(code) <= 64
    plain = plain and all(c.isalnum() or c in "_.-" for c in code or "")
    assert err.extra.get("agencyCode") == (code if plain else None)


def _date(value: object) -> date | None:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None  # 2024-02-30


def _decimal(value: object) -> Decimal | None:
    plain = isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,20}(\.[0-9]{1,10})?", value)
    return Decimal(value) if plain and isinstance(value, str) else None


# (agency, the record's path, XML text or JSON values, the queue's field, every control's kind)
LISTED: dict[str, tuple[str, str, bool, str, ControlKind | None]] = {
    "vehicle-seizure": ("public_security", "seizures[0]", False, "queuePosition", None),
    "equity-freeze": (
        "market_regulation",
        "freezes[0]",
        False,
        "queuePosition",
        ControlKind.FREEZE,
    ),
    "real-estate-seizure": ("land_registry", "Seizure", True, "queue", None),
}


def _listed(xml: bool, queue: str) -> st.SearchStrategy[dict[str, Any]]:
    numbers = st.integers(min_value=-2, max_value=3) | st.integers(min_value=0, max_value=10**6)
    days = st.dates().map(date.isoformat)
    money = st.decimals(min_value=0, max_value=10**9, places=2).map(str)
    fields = {
        "court": _mostly(ODD_TEXT, ANY_VALUE),
        "caseNumber": _mostly(ODD_TEXT, ANY_VALUE),
        "since": _mostly(
            days, ANY_VALUE | st.sampled_from(["2024-02-30", "20240101", "２０２４-01-01"])
        ),
        "until": _mostly(st.none() | days, ANY_VALUE),
        queue: _mostly(numbers.map(str) if xml else numbers, ODD_TEXT if xml else ANY_VALUE),
        "claim": _mostly(st.none() | money, ANY_VALUE | st.sampled_from(["1e5", "NaN", " 1.00"])),
    }
    missing = st.sets(st.sampled_from(sorted(fields)), max_size=2)
    return st.tuples(st.fixed_dictionaries(fields), missing).map(
        lambda drawn: {k: v for k, v in drawn[0].items() if k not in drawn[1]}
    )


def _expected_control(
    data: dict[str, Any], xml: bool, queue: str, kind: ControlKind | None
) -> Control | str:
    """The control listed, or the name of its first bad field, read in the parser's order."""
    position = data.get(queue)
    if xml and isinstance(position, str) and re.fullmatch(r"-?[0-9]{1,18}", position):
        position = int(position)
    if not isinstance(position, int) or isinstance(position, bool) or position < 0:
        return queue
    for key in ("court", "caseNumber"):
        if not isinstance(data.get(key), str):
            return key
    since = _date(data.get("since"))
    if since is None:
        return "since"
    until = data.get("until")
    if until is not None and _date(until) is None:
        return "until"
    claim = data.get("claim")
    if claim is not None and _decimal(claim) is None:
        return "claim"
    queued = ControlKind.SEIZURE if position == 0 else ControlKind.QUEUED_SEIZURE
    return Control(
        court=data["court"],
        case_number=data["caseNumber"],
        kind=kind or queued,
        since=since,
        until=None if until is None else _date(until),
        queue_position=position,
        claim=None if claim is None else _decimal(claim),
    )


@pytest.mark.parametrize("listed", list(LISTED))
@settings(max_examples=400)
@given(data=st.data())
def test_any_listed_control_is_its_control_or_a_bad_response_naming_the_field(
    listed: str, data: st.DataObject
) -> None:
    agency, path, xml, queue, kind = LISTED[listed]
    drawn = data.draw(_listed(xml, queue))
    expected = _expected_control(drawn, xml, queue, kind)
    record = Record(agency, drawn, path, xml=xml)
    if isinstance(expected, Control):
        assert parse_control(record, queue=queue, kind=kind) == expected
        return
    with pytest.raises(AgencyBadResponse) as caught:
        parse_control(record, queue=queue, kind=kind)
    assert caught.value.code == "AGENCY_BAD_RESPONSE"
    assert caught.value.extra["field"] == f"{path}.{expected}"
