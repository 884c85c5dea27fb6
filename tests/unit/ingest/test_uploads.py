"""Ingest's ``/imports``: files from the owner's page, imported for the owner the signed
call names, with the CLI's summary. Counting only here (no broker); the browser test
(tests/e2e/test_owner_page.py) publishes through the real one."""

from __future__ import annotations

import time
import warnings

import pytest

from services.ingest.uploads import UploadEndpoint
from shared.service_calls import signed_headers
from tests.real_files import real_files

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

SECRET = "a-link-secret-for-the-upload-tests-0123456789"
GMAIL = next(p for p in real_files("ez-vcard", ".vcf") if p.name == "John_Doe_GMAIL.vcf")


def client(max_bytes: int = 1_000_000) -> TestClient:
    return TestClient(UploadEndpoint(None, SECRET, max_bytes=max_bytes))


def post(body: bytes, filename: str, *, owner: str = "maria", secret: str = SECRET, **extra: str):
    headers = signed_headers(secret, owner, body, {"filename": filename, "me": ""})
    headers.update(extra)
    return client().post("/imports", content=body, headers=headers)


def test_a_real_vcard_is_counted_like_the_cli_counts_it() -> None:
    answer = post(GMAIL.read_bytes(), "John_Doe_GMAIL.vcf")
    assert answer.status_code == 200, answer.text
    summary = answer.json()
    assert summary["counts"]["contacts"] == 1
    assert summary["source"] == "John_Doe_GMAIL.vcf"


def test_a_bad_row_is_reported_by_line_while_the_rest_imports() -> None:
    body = (
        b"First Name,Last Name,Company,Job Title,Business Phone,Mobile Phone,E-mail Address,"
        b"Business City\nAnna,Berg,Acme,CFO,,,anna@example.com,Oslo\n,,Acme,CEO,,,,\n"
        b"Erik,Ek,Acme,CIO,,,erik@example.com,Oslo\n"
    )
    summary = post(body, "people.csv").json()
    assert summary["counts"]["contacts"] == 2
    assert summary["rejected"] == [{"line": 3, "reason": "row has no name, e-mail or phone"}]


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"secret": "another-secret-another-secret-another-secret"}, 401),
        ({"x-springboard-owner": "olof"}, 401),  # the signature names maria
        ({"x-springboard-timestamp": str(int(time.time()) - 3600)}, 401),
    ],
)
def test_a_call_not_signed_for_this_owner_now_is_refused(
    change: dict[str, str], status: int
) -> None:
    body = GMAIL.read_bytes()
    secret = change.pop("secret", SECRET)
    assert post(body, "a.vcf", secret=secret, **change).status_code == status


def test_what_is_not_a_calendar_address_book_or_csv_is_refused_in_one_line() -> None:
    answer = post(b"hello", "notes.txt")
    assert answer.status_code == 415
    assert answer.json() == {"error": "upload a .ics, .vcf or .csv file"}
    zipped = post(b"PK\x03\x04rest", "contacts.vcf")
    assert zipped.status_code == 422
    assert "zip archive" in zipped.json()["error"]


def test_a_file_over_the_limit_is_refused_before_it_is_read() -> None:
    body = b"x" * 2_000
    headers = signed_headers(SECRET, "maria", body, {"filename": "big.csv", "me": ""})
    assert (
        client(max_bytes=1_000).post("/imports", content=body, headers=headers).status_code == 413
    )
