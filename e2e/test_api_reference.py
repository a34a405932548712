"""The project's API reference (docs/api.md) and the OpenAPI document
(api/openapi.yaml) say the same: every method, path, status and error `code`
is extracted from both (api_reference.py says how), and any difference
fails, so the two cannot drift. No server is needed (it runs in the first
pass only). What another branch brings into the contract before it reaches
the document is listed in api_reference.PENDING; an entry that is no longer
a difference fails too, so the list cannot go stale.
"""
import pytest
import yaml

from api_reference import (DOCUMENT, PENDING, ROOT, contract_codes, document_entries,
                           read_reference, reference_entries)

pytestmark = pytest.mark.once


# --- the comparison -----------------------------------------------------------------------


def _show(entries) -> str:
    return "\n".join(f"  {m} {p} {s} {c or '—'}" for m, p, s, c in sorted(
        entries, key=lambda e: (e[1], e[0], e[2], e[3] or "")))


def test_the_reference_and_the_openapi_document_say_the_same():
    reference = reference_entries(read_reference())
    document = document_entries(yaml.safe_load(DOCUMENT.read_text(encoding="utf-8")))
    assert len(reference) > 100 and len(document) > 100, "an extraction found next to nothing"
    only_reference = reference - document - set(PENDING)
    only_document = document - reference
    stale = {e for e in PENDING if e not in reference or e in document}
    message = []
    if only_reference:
        message.append("in docs/api.md, not in api/openapi.yaml:\n" + _show(only_reference))
    if only_document:
        message.append("in api/openapi.yaml, not in docs/api.md:\n" + _show(only_document))
    if stale:
        message.append("PENDING entries that are no longer a difference (remove them):\n" +
                       _show(stale))
    assert not message, "\n".join(message)


def test_the_extraction_reads_what_it_should():
    """The reader itself: several routes under one heading, a query string
    left out, `—` as no code, one table per heading."""
    text = """
### `POST /a/{id}/x` and `POST /a/{id}/y`
| status | code | when |
|---|---|---|
| 200 | — | fine |
| 400 | `invalid_json`, `missing_field` | shape |

| status | code | when |
|---|---|---|
| 418 | `teapot` | not read: only the first table counts |

### `GET /b?q=&r=`
Text.

| status | code |
|---|---|
| 404 | `not_found` |

## Not a route
| status | code | when |
|---|---|---|
| 500 | `internal` | not read: no route in the heading |
"""
    assert reference_entries(text) == {
        ("POST", "/a/{id}/x", 200, None), ("POST", "/a/{id}/y", 200, None),
        ("POST", "/a/{id}/x", 400, "invalid_json"), ("POST", "/a/{id}/y", 400, "invalid_json"),
        ("POST", "/a/{id}/x", 400, "missing_field"), ("POST", "/a/{id}/y", 400, "missing_field"),
        ("GET", "/b", 404, "not_found")}


def test_the_code_table_is_read_whole():
    codes = contract_codes(read_reference())
    assert {"invalid_json", "insufficient_scope", "passkey_limit", "internal"} <= codes
    assert len(codes) == 28, sorted(codes)


def test_the_readme_points_at_the_reference_in_the_repository():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "](docs/api.md)" in readme
    assert "../shared/" not in readme, "a file outside the repository"
