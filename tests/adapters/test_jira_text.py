"""ADF (Cloud) and wiki markup (Data Center) renderings of the escalation's free text."""

from __future__ import annotations

from escalink.adapters.jira import adf, wiki


def test_description_paragraphs_and_line_breaks() -> None:
    assert adf.text_to_adf("First line\nsecond line\n\n\nNext *paragraph*") == {
        "type": "doc",
        "version": 1,
        "content": [
            {
                "type": "paragraph",
                "content": [
                    {"type": "text", "text": "First line"},
                    {"type": "hardBreak"},
                    {"type": "text", "text": "second line"},
                ],
            },
            {"type": "paragraph", "content": [{"type": "text", "text": "Next *paragraph*"}]},
        ],
    }


def test_empty_text_is_still_a_valid_document() -> None:
    assert adf.text_to_adf("  ") == {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": []}],
    }


def test_steps_are_an_ordered_list_in_order() -> None:
    rendered = adf.steps_to_adf(["Opened app", "", "Clicked settings", "Saw 403 error message"])
    (block,) = rendered["content"]
    assert block["type"] == "orderedList" and block["attrs"] == {"order": 1}
    texts = [item["content"][0]["content"][0]["text"] for item in block["content"]]
    assert texts == ["Opened app", "Clicked settings", "Saw 403 error message"]
    assert all(item["type"] == "listItem" for item in block["content"])


def test_expected_and_actual_are_labelled_paragraphs() -> None:
    rendered = adf.expected_actual_to_adf("Settings open", "A 403 error shows")
    assert rendered["content"] == [
        {
            "type": "paragraph",
            "content": [
                {"type": "text", "text": "Expected:", "marks": [{"type": "strong"}]},
                {"type": "text", "text": " Settings open"},
            ],
        },
        {
            "type": "paragraph",
            "content": [
                {"type": "text", "text": "Actual:", "marks": [{"type": "strong"}]},
                {"type": "text", "text": " A 403 error shows"},
            ],
        },
    ]


def test_adf_text_nodes_are_never_empty() -> None:
    def walk(node: dict) -> list[dict]:
        return [node] + [n for child in node.get("content", []) for n in walk(child)]

    for rendered in (
        adf.text_to_adf("a\n\nb\n"),
        adf.expected_actual_to_adf("", "x"),
        adf.steps_to_adf(["a\n"]),
    ):
        assert all(n["text"] for n in walk(rendered) if n["type"] == "text")


def test_wiki_escapes_every_markup_character() -> None:
    assert wiki.text_to_wiki("Tap *Save* then {code} [link] -x- _y_ +z+ ^s^ ~t~ ?? | !img! #1") == (
        r"Tap \*Save\* then \{code\} \[link\] \-x\- \_y\_ \+z\+ \^s\^ \~t\~ \?\? \| \!img\! \#1"
    )


def test_wiki_keeps_urls_linkable_and_backslashes_literal() -> None:
    assert (
        wiki.text_to_wiki("see https://app.example.com/a_b-c?d=1 now")
        == "see https://app.example.com/a_b-c?d=1 now"
    )
    assert wiki.text_to_wiki("C:\\path") == "C:&#92;path"


def test_wiki_block_prefixes_are_neutralised() -> None:
    assert wiki.text_to_wiki("h1. Title\nbq. quote") == "h1\\. Title\nbq\\. quote"


def test_wiki_steps_and_expected_actual() -> None:
    assert wiki.steps_to_wiki(["Opened app", "Clicked *settings*\nthen back", " "]) == (
        "# Opened app\n# Clicked \\*settings\\* \\\\ then back"
    )
    assert wiki.expected_actual_to_wiki("Works", "Shows 403") == "*Expected:* Works\n\n*Actual:* Shows 403"
    assert wiki.expected_actual_to_wiki("", "Shows 403") == "*Expected:*\n\n*Actual:* Shows 403"
