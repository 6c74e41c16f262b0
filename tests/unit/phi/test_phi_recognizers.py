"""Each recognizer against positives and look-alikes (all people and numbers are fictional)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from escalink.phi import Detector

Covered = Callable[..., bool]

# (text, part that must be covered, label expected on it, field)
POSITIVES = [
    # NAME
    ("Member Marguerite Okafor can't log in", "Marguerite Okafor", "NAME", "summary"),
    ("Video consult with Dr. Lindgren dropped", "Lindgren", "NAME", "summary"),
    ("Mrs. Abernathy needs caregiver access", "Abernathy", "NAME", "summary"),
    ("Grace still gets reminders after stopping", "Grace", "NAME", "summary"),
    ("Caller was her husband Tobias.", "Tobias", "NAME", "comment"),
    ("VANCE, HAROLD — eligibility shows termed", "VANCE, HAROLD", "NAME", "summary"),
    ("pls help mbr ravindra cant see program", "ravindra", "NAME", "summary"),
    ("Thanks Henrik, retested on staging", "Henrik", "NAME", "comment"),
    ("scan_Winifred_Castellanos_front.jpg", "Winifred_Castellanos", "NAME", "filename"),
    ("MilesKowalski_labs.pdf", "MilesKowalski", "NAME", "filename"),
    ("saoirse_lindqvist_lab_results.pdf", "saoirse_lindqvist", "NAME", "filename"),  # an unlisted surname
    ("Maria dela Cruz asked for a refund", "Maria dela Cruz", "NAME", "summary"),
    # DATE
    ("Search name plus DOB 3/7/1956", "3/7/1956", "DATE", "steps"),
    ("She was born April 2nd, 1949 in a small town", "April 2nd, 1949", "DATE", "comment"),
    ("His consult on 5/14 dropped twice", "5/14", "DATE", "comment"),
    ("The lab draw from 2 May 2024 is missing", "2 May 2024", "DATE", "description"),
    ("Mr. Castellanos (age 94) needs help", "94", "DATE", "summary"),
    ("I'm a 92 year old woman and the text is small", "92", "DATE", "comment"),
    ("Winifred_DOB_07121950.png", "07121950", "DATE", "filename"),
    # PHONE
    ("Call back at (312) 555-0177 x3", "(312) 555-0177 x3", "PHONE", "comment"),
    ("Reached her on +1 617 555 0142", "+1 617 555 0142", "PHONE", "comment"),
    ("UK mobile +44 20 7946 0321 fails validation", "+44 20 7946 0321", "PHONE", "comment"),
    ("fax header FROM: 7735550166", "7735550166", "PHONE", "comment"),
    ("phone 415.555.0190 after 5pm", "415.555.0190", "PHONE", "comment"),
    # EMAIL
    ("reset mail to w.castellanos@example.org bounced", "w.castellanos@example.org", "EMAIL", "summary"),
    # ADDRESS
    ("Ship to 221 Maple Ave Apt 4, Springfield, IL 62704", "221 Maple Ave Apt 4, Springfield, IL 62704",
     "ADDRESS", "description"),
    ("Member lives in Yakima and gets no SMS", "Yakima", "ADDRESS", "description"),
    ("She confirmed ZIP 60614 on the call", "60614", "ADDRESS", "comment"),
    ("lives in Ocean County, NJ", "Ocean County", "ADDRESS", "description"),
    # SSN
    ("Eligibility file had SSN 219-09-9999 in the id column", "219-09-9999", "SSN", "description"),
    ("purge SSN last 4 5521 from profile", "5521", "SSN", "summary"),
    ("the SSN ending in 4410 was used", "4410", "SSN", "comment"),
    # ID
    ("MRN 00918273 does not match", "00918273", "ID", "comment"),
    ("Aetna ID W552019371 not found", "W552019371", "ID", "steps"),
    ("Scale serial WBS06-00C2D9E1 assigned to someone else", "WBS06-00C2D9E1", "ID", "steps"),
    ("Duplicate patient records: 30118822 and 30118829", "30118829", "ID", "description"),
    ("Member ID on her card is MBR-00771234.", "MBR-00771234", "ID", "description"),
    ("card number 4111111111111111 lost", "4111111111111111", "ID", "comment"),
    # URL
    ("She posts at instagram.com/winnie_runs_far daily", "instagram.com/winnie_runs_far", "URL", "comment"),
    ("Obituary at legacy.example.com/obituaries/harold-vance-2024", "legacy.example.com/obituaries/harold-vance-2024",
     "URL", "comment"),
    # IP
    ("Logins from 203.0.113.77 were blocked", "203.0.113.77", "IP", "comment"),
    ("second address 2001:db8:85a3::8a2e:370:7334 got 403", "2001:db8:85a3::8a2e:370:7334", "IP", "comment"),
    ("waf_block_198.51.100.23.log", "198.51.100.23", "IP", "filename"),
    # CLINICAL
    ("She is on sertraline 50 mg and asks about it", "sertraline 50 mg", "CLINICAL", "comment"),
    ("Lab fax shows A1C 8.7% and LDL 171", "A1C 8.7%", "CLINICAL", "description"),
    ("His BP 162/99 reading was not flagged", "162/99", "CLINICAL", "summary"),
    ("weighs 231 lbs according to the scale", "231 lbs", "CLINICAL", "comment"),
    ("Kwabena is enrolled in the Diabetes program and his sync fails", "Diabetes", "CLINICAL", "description"),
    ("VBID list says the member has congestive heart failure", "congestive heart failure", "CLINICAL", "comment"),
    ("She is 30 weeks pregnant and needs evening slots", "30 weeks pregnant", "CLINICAL", "comment"),
    ("Glucose of 48 mg/dL did not alert", "48 mg/dL", "CLINICAL", "expected_actual"),
]

# (text, field): nothing may be flagged
NEGATIVES = [
    ("Member 3f2b9c1e-7a44-4e0b-9d1c-2b7f0e6a8c55 requests account deletion", "summary"),
    ("Duplicate of ESCA-123, closing", "comment"),
    ("Zendesk #48213 is still open", "comment"),
    ("Crash after updating to v8.14.0", "summary"),
    ("Fixed in build 2024.06.1", "comment"),
    ("sync failed on 3/14 at 2:05pm", "comment"),
    ("Diabetes program page is blank for all users", "summary"),
    ("Will the app support dark mode?", "summary"),
    ("Crash on iPhone 14 running iOS 17.2", "summary"),
    ("HTTP 403 on login for every account", "summary"),
    ("Member Web App and Provider Dashboard both time out", "summary"),
    ("Health Guide Platform shows the wrong coach card on Android", "summary"),
    ("Upload fails with UPL-413 for PDFs over 10 MB", "summary"),
    ("Readings show a timestamp of 01/01/1970 00:00", "expected_actual"),
    ("Backfill ran at 03:00 UTC after the 06/12 release", "comment"),
    ("Help Center link https://help.example.com/hc/articles/360012 returns 404", "summary"),
    ("Systolic values above 250 are rejected as invalid", "expected_actual"),
    ("Request id 7c1e-44af-9b02 returned 500", "comment"),
    ("ios_4.12.1_crashlog_2024-06-14.txt", "filename"),
    ("screenshot_login_error.png", "filename"),
    ("Hypertension and Nutrition pages load fine for everyone", "description"),
    ("her health coach and the dietitian both see it", "comment"),
    ("A Tier 2 agent reproduced it on Galaxy A54", "comment"),
    ("Consult counter shows 0 of 4 remaining", "summary"),
    ("Members in Arizona see times an hour ahead", "description"),
]


@pytest.mark.parametrize(("text", "part", "label", "field"), POSITIVES, ids=[p[1] for p in POSITIVES])
def test_positive(detector: Detector, covered: Covered, text: str, part: str, label: str, field: str) -> None:
    assert covered(text, part, field), detector.scan(text, field)
    start = text.index(part)
    labels = {f.label for f in detector.scan(text, field) if f.start < start + len(part) and start < f.end}
    assert label in labels


@pytest.mark.parametrize(("text", "field"), NEGATIVES, ids=[n[0][:40] for n in NEGATIVES])
def test_look_alike_is_not_flagged(detector: Detector, text: str, field: str) -> None:
    assert detector.scan(text, field) == []


@pytest.mark.parametrize(("text", "field", "spans"), [
    ("lab report (MRN 00482913) that fails", "description", ["00482913"]),  # not the closing parenthesis
    ("Call +46 (0)8 928 571 38 after lunch", "comment", ["+46 (0)8 928 571 38"]),
    ("saoirse_lindqvist_lab_results.pdf", "filename", ["saoirse_lindqvist"]),
    ("lindqvist_saoirse_labs.pdf", "filename", ["lindqvist_saoirse"]),
])
def test_spans_end_where_the_value_ends(detector: Detector, text: str, field: str, spans: list[str]) -> None:
    assert [text[f.start:f.end] for f in detector.scan(text, field)] == spans
