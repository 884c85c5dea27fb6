from __future__ import annotations

import io
import json
from datetime import date

import pytest

from services.ingest.parsers import attendees, csv_formats
from services.ingest.parsers.common import Parsed, Problem
from shared import topics

LINKEDIN = """Notes:
"When exporting your connection data, you may notice that some of the email addresses are missing. You will only see email addresses for connections who have allowed their connections to see or download their email address using this setting https://www.linkedin.com/psettings/privacy/email. You can learn more here https://www.linkedin.com/help/linkedin/answer/261"

First Name,Last Name,URL,Email Address,Company,Position,Connected On
Anna,Berg,https://www.linkedin.com/in/annaberg,,Nordbank AB,Ekonomichef,09 Oct 2024
Erik,Nilsson,https://www.linkedin.com/in/eriknilsson,erik@gbgconsult.example,"GBG Consult, AB",CFO,12 Jan 2023
"""
HUBSPOT = """Record ID - Contact,First Name,Last Name,Email,Phone Number,Company Name,Job Title,City,Last Activity Date,Lifecycle Stage
51,Sara,Ek,sara@klarmynt.example,070-123 45 67,Klarmynt AB,CFO,Stockholm,2026-10-01 10:00,Customer
52,,,,,,,,,
"""
HUBSPOT_SV = """Post-ID;Förnamn;Efternamn;E-post;Telefonnummer;Företagsnamn;Jobbtitel;Livscykelstadium
7;Per;Holm;per@x.example;+46 8 123 456;Hötorget AB;IT-chef;Kund
"""
SALESFORCE_API = """Id,FirstName,LastName,Email,Phone,Title,Account.Name,MailingCity,LastActivityDate
0035g00000ABC,Lena,Dahl,lena@vasabetal.example,+46 70 111 22 33,VD,Vasa Betal AB,Stockholm,2026-11-02
"""
SALESFORCE_REPORT = """Contact ID,First Name,Last Name,Title,Account Name,Email,Mailing City,Last Activity
003xx1,Ola,Ström,Controller,Kvarnby Handel AB,ola@kvarnby.example,Stockholm,11/02/2026
"""
GOOGLE = """First Name,Middle Name,Last Name,E-mail 1 - Label,E-mail 1 - Value,Phone 1 - Label,Phone 1 - Value,Organization Name,Organization Title
Ida,,Holm,* Work,ida@stadsbanken.example,Mobile,+46 73 555 01 02,Stadsbanken AB,CIO
"""
OUTLOOK = """First Name,Last Name,Company,Job Title,Business Phone,Mobile Phone,E-mail Address,Business City
Jonas,Lund,Söderhallen Retail AB,Head of Sales,08-555 123 45,,jonas@soderhallen.example,Stockholm
"""


def items(text: str, **kwargs) -> list:
    return list(csv_formats.parse(io.BytesIO(text.encode()), **kwargs))


def contacts(text: str, **kwargs) -> list:
    return [
        i.data
        for i in items(text, **kwargs)
        if isinstance(i, Parsed) and i.topic == topics.CONTACTS
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (LINKEDIN, "linkedin"),
        (HUBSPOT, "hubspot"),
        (HUBSPOT_SV, "hubspot"),
        (SALESFORCE_API, "salesforce"),
        (SALESFORCE_REPORT, "salesforce"),
        (GOOGLE, "google"),
        (OUTLOOK, "outlook"),
    ],
)
def test_the_format_is_recognised_from_the_header(text: str, expected: str) -> None:
    header_line = next(line for line in text.splitlines() if line.count(",") + line.count(";") >= 2)
    delimiter = ";" if ";" in header_line else ","
    assert csv_formats.detect(header_line.split(delimiter)).name == expected


def test_linkedin_notes_before_the_header_are_skipped_and_dates_read() -> None:
    anna, erik = contacts(LINKEDIN)
    assert (anna.full_name, anna.emails, anna.company, anna.title) == (
        "Anna Berg",
        [],
        "Nordbank AB",
        "Ekonomichef",
    )
    assert anna.profile_url == "https://www.linkedin.com/in/annaberg"
    assert anna.connected_on == date(2024, 10, 9)
    assert erik.company == "GBG Consult, AB"


def test_hubspot_marks_customers_and_turns_last_activity_into_an_interaction() -> None:
    found = items(HUBSPOT)
    [sara] = [i.data for i in found if isinstance(i, Parsed) and i.topic == topics.CONTACTS]
    assert sara.is_customer
    assert sara.phones == ["070-123 45 67"]
    [activity] = [i.data for i in found if isinstance(i, Parsed) and i.topic == topics.MEETINGS]
    assert activity.starts_at.date() == date(2026, 10, 1)
    [empty] = [i for i in found if isinstance(i, Problem)]
    assert empty.line == 3
    assert "no name" in empty.reason


def test_swedish_hubspot_labels_and_semicolons_are_understood() -> None:
    [per] = contacts(HUBSPOT_SV)
    assert (per.full_name, per.title, per.is_customer) == ("Per Holm", "IT-chef", True)


@pytest.mark.parametrize("text", [SALESFORCE_API, SALESFORCE_REPORT, GOOGLE, OUTLOOK])
def test_each_crm_flavour_yields_name_email_company_and_title(text: str) -> None:
    [contact] = contacts(text)
    assert contact.full_name
    assert contact.emails
    assert contact.company
    assert contact.title


def test_a_generic_csv_imports_with_a_mapping_file(tmp_path) -> None:
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"full_name": "Namn", "email": "Mejl", "company": "Bolag"}))
    fmt = csv_formats.generic_format(mapping)
    [contact] = contacts("Namn,Mejl,Bolag\nKarin Ek,karin@x.example,Ek AB\n", fmt=fmt)
    assert (contact.full_name, contact.emails, contact.company) == (
        "Karin Ek",
        ["karin@x.example"],
        "Ek AB",
    )


def test_a_mapping_with_unknown_fields_is_refused(tmp_path) -> None:
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"nickname": "Nick"}))
    with pytest.raises(ValueError, match="unknown fields"):
        csv_formats.generic_format(mapping)


def test_bad_rows_are_reported_with_their_line_numbers_and_the_rest_import() -> None:
    text = (
        "First Name,Last Name,E-mail Address,Business Phone,Company\n"
        "Ann,Ek,ann@x.example,,X\n"
        ",,,,\n"
        "No,Mail,not-an-email,,Y\n"
        '"Multi\nline",Name,ml@x.example,,Z\n'
        ",,,,Only a company\n"
    )
    found = items(text)
    parsed = [i for i in found if isinstance(i, Parsed)]
    problems = [(p.line, p.severity) for p in found if isinstance(p, Problem)]
    assert [c.data.full_name for c in parsed] == ["Ann Ek", "No Mail", "Multi\nline Name"]
    assert problems == [(4, "warning"), (7, "rejected")]
    assert parsed[2].line == 5


def test_an_unknown_csv_says_so_and_names_its_header() -> None:
    [problem] = items("Foo,Bar,Baz\n1,2,3\n")
    assert "unknown CSV format" in problem.reason
    assert "Foo" in problem.reason


def test_attendee_lists_become_attendance_with_status() -> None:
    text = (
        "Order #,First Name,Last Name,Email,Company,Job Title,Attendee Status,Checked In\n"
        "1,Ann,Ek,ann@x.example,X,CFO,Attending,Yes\n"
        "2,Bo,Ek,bo@x.example,X,CIO,Attending,No\n"
        "3,Cy,Ek,cy@x.example,X,CTO,Refunded,No\n"
        "4,Di,Ek,not-mail,X,CTO,Attending,No\n"
    )
    found = list(attendees.parse(io.BytesIO(text.encode()), event_id="ev1"))
    statuses = [i.data.status.value for i in found if isinstance(i, Parsed)]
    assert statuses == ["attended", "registered", "cancelled"]
    [bad] = [i for i in found if isinstance(i, Problem)]
    assert bad.line == 5


def test_attendee_lists_need_an_event() -> None:
    [problem] = attendees.parse(io.BytesIO(b"Email,Name\na@x.example,A\n"))
    assert "--event" in problem.reason
