"""The files of ``liandong lookup``: reading ids, resuming and repairing the output."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from gateway.cli.lookup_io import OutputError, OutputFile, read_ids

PERSON = "11010119900307803X"
SPOUSE = "360426199101010071"
ORG = "91110000600037341L"


def test_ids_come_from_the_first_column_with_header_blank_lines_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text(
        f"身份证号,姓名\n\n{PERSON.lower()},张三\n {SPOUSE} ,李四\n,\n{ORG}\n"
        f"{PERSON}\n12345\nabc\n",
        encoding="utf-8-sig",
    )
    ids = read_ids(path)
    assert ids.valid == [PERSON, SPOUSE, ORG]
    assert ids.duplicates == 1
    assert list(ids.invalid) == ["12345", "abc"]  # only the first row may be a header
    assert ids.invalid["12345"].extensions == {"code": "INVALID_INPUT", "field": "line 8"}


def test_a_first_row_with_digits_is_an_invalid_id_not_a_header(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text(f"110101\n{PERSON}\n", encoding="utf-8")
    ids = read_ids(path)
    assert ids.valid == [PERSON] and list(ids.invalid) == ["110101"]


def line(key: str, status: str, code: str | None = None) -> bytes:
    errors = [{"message": "x", "extensions": {"code": code}}] if code else []
    return orjson.dumps({"id": key, "status": status, "data": None, "errors": errors}) + b"\n"


def test_a_cut_off_last_line_is_removed_and_the_rest_counts_as_done(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_bytes(line(PERSON, "ok") + line(ORG, "failed", "FORBIDDEN") + b'{"id": "3604')
    out = OutputFile.open(path)
    assert out.repaired == len(b'{"id": "3604')
    assert path.read_bytes().endswith(b"\n")
    assert out.done == {PERSON: ("ok", None), ORG: ("failed", "FORBIDDEN")}
    out.append([{"id": SPOUSE, "status": "partial", "data": {}, "errors": [{"message": "m"}]}])
    out.close()
    again = OutputFile.open(path)
    assert again.repaired == 0
    assert again.summary([PERSON, SPOUSE, ORG, "unknown"]) == {
        ("ok", None): 1,
        ("partial", None): 1,
        ("failed", "FORBIDDEN"): 1,
    }


def test_retry_failed_rewrites_the_file_without_its_failures(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_bytes(line(PERSON, "failed", "NOT_FOUND") + line(ORG, "ok"))
    out = OutputFile.open(path, drop_failed=True)
    assert out.done == {ORG: ("ok", None)}
    assert path.read_bytes() == line(ORG, "ok")
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_a_damaged_line_in_the_middle_is_refused_by_number(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_bytes(line(PERSON, "ok") + b"garbage\n" + line(ORG, "ok"))
    with pytest.raises(OutputError, match="line 2"):
        OutputFile.open(path)


def test_a_missing_output_is_created_with_its_folder(tmp_path: Path) -> None:
    out = OutputFile.open(tmp_path / "new" / "out.jsonl")
    assert out.done == {} and (tmp_path / "new" / "out.jsonl").exists()
