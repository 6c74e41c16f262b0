"""Reading steps and member UUIDs the way agents type them."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from escalink.policy.normalize import clean_text, is_member_uuid, parse_steps, split_steps


def oracle(text: str) -> bool:
    """RFC 4122 canonical form, decided with the standard library instead of a pattern."""
    text = text.strip()
    try:
        parsed = uuid.UUID(text)
    except ValueError:
        return False
    return (
        text.lower() == str(parsed)
        and parsed.variant == uuid.RFC_4122
        and parsed.version is not None
        and 1 <= parsed.version <= 5
    )


@given(st.uuids(version=4))
def test_every_uuid4_is_accepted_in_any_case_and_padding(value: uuid.UUID) -> None:
    text = str(value)
    assert is_member_uuid(text)
    assert is_member_uuid(text.upper())
    assert is_member_uuid(f"  {text}\n")


@pytest.mark.parametrize("version", [1, 3, 4, 5])
@given(value=st.uuids())
def test_versions_one_to_five_are_accepted(version: int, value: uuid.UUID) -> None:
    versioned = uuid.UUID(int=value.int, version=version)
    assert is_member_uuid(str(versioned))


@given(st.text(max_size=60))
def test_random_text_is_judged_like_the_standard_library(text: str) -> None:
    assert is_member_uuid(text) == oracle(text)


HEX_SHAPE = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


@given(st.from_regex(HEX_SHAPE, fullmatch=True))
def test_uuid_shaped_text_needs_the_right_version_and_variant(text: str) -> None:
    assert is_member_uuid(text) == oracle(text)


VALID = "3f2b8c1e-9d4a-4e6b-8f1a-2c3d4e5f6a7b"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not a uuid",
        "{" + VALID + "}",
        "urn:uuid:" + VALID,
        VALID.replace("-", ""),
        VALID[:-1],
        VALID + "0",
        "00000000-0000-0000-0000-000000000000",  # nil
        "3f2b8c1e-9d4a-0e6b-8f1a-2c3d4e5f6a7b",  # version 0
        "3f2b8c1e-9d4a-7e6b-8f1a-2c3d4e5f6a7b",  # version 7 (not RFC 4122)
        "3f2b8c1e-9d4a-4e6b-cf1a-2c3d4e5f6a7b",  # Microsoft variant
        "3f2b8c1e-9d4a-4e6b-7f1a-2c3d4e5f6a7b",  # NCS variant
        "3f2b8c1e-9d4a-4e6b-8f1a-2c3d4e5f6a7g",  # not hex
        VALID + "\n" + VALID,
    ],
)
def test_not_member_uuids(text: str) -> None:
    assert not is_member_uuid(text)


GUIDE = ["Opened app", "Clicked settings", "Saw 403 error message"]


@pytest.mark.parametrize(
    ("text", "steps"),
    [
        ("1. Opened app 2. Clicked settings 3. Saw 403 error message", GUIDE),
        ("1) Opened app 2) Clicked settings 3) Saw 403 error message", GUIDE),
        ("1.Opened app 2.Clicked settings 3.Saw 403 error message", GUIDE),
        ("Step 1: Opened app Step 2: Clicked settings Step 3: Saw 403 error message", GUIDE),
        ("Opened app\nClicked settings\nSaw 403 error message", GUIDE),
        ("- Opened app\n- Clicked settings\n* Saw 403 error message", GUIDE),
        ("1. Opened app\n2. Clicked settings\n\n3. Saw 403 error message\n", GUIDE),
        ("Steps: 1. Opened app 2. Clicked settings 3. Saw 403 error message", GUIDE),
        ("After login 1. Opened app 2. Clicked settings", ["After login", "Opened app", "Clicked settings"]),
        ("Opened app, clicked settings, saw a 403", ["Opened app, clicked settings, saw a 403"]),
        ("Updated to version 2.5 and it crashed", ["Updated to version 2.5 and it crashed"]),
        ("Saw error 403. Then closed the app", ["Saw error 403. Then closed the app"]),
        ("Pressed button 1) nothing happened", ["Pressed button 1) nothing happened"]),
        ("1. Opened app 3. Saw 403", ["Opened app 3. Saw 403"]),  # 3 does not follow 1: it is text
        ("Opened   app \r\n Clicked\tsettings", ["Opened app", "Clicked settings"]),
        ("", []),
        ("  \n ", []),
    ],
)
def test_split_steps(text: str, steps: list[str]) -> None:
    assert split_steps(text) == steps


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("2. Clicked settings", [(2, "Clicked settings")]),
        ("1. Opened app 2. 3. Saw 403", [(1, "Opened app"), (2, ""), (3, "Saw 403")]),
        ("Opened app", [(None, "Opened app")]),
    ],
)
def test_parse_steps_keeps_the_written_numbers(text: str, parsed: list[tuple[int | None, str]]) -> None:
    assert parse_steps(text) == parsed


# "Step" alone is itself a step marker ("Step 2: ..."), so it cannot be a whole step here.
WORDS = st.text(alphabet=st.characters(categories=["L"]), min_size=1, max_size=12).filter(
    lambda w: w.casefold() != "step"
)


@given(st.lists(WORDS, min_size=1, max_size=9))
def test_numbered_words_split_back_into_the_same_steps(words: list[str]) -> None:
    text = " ".join(f"{i}. {w}" for i, w in enumerate(words, start=1))
    assert split_steps(text) == words


def test_clean_text() -> None:
    assert clean_text("  first line  \r\nsecond\t \r\n\n") == "first line\nsecond"
