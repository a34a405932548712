"""Reads the project's API reference (docs/api.md) and the OpenAPI document
(api/openapi.yaml) into comparable entries: (method, path, status, code),
the code None for an answer that is no problem document.

- docs/api.md: every heading that names routes as `METHOD /path` (several
  may share one heading; a query string is left out), then the first table
  under it whose header starts `| status | code |`: one row per status, the
  codes in backticks (`—` for none). Its "Status and error codes" table
  lists every code of the contract.
- api/openapi.yaml: every operation's responses, following `$ref`s; the
  codes are the `enum`/`const` of `code` in a problem schema (through
  `allOf`/`oneOf`/`anyOf`), none for other answers.

PENDING lists what another branch brings into the contract before it
reaches the OpenAPI document here, with what brings it; merging such work
means emptying its entries.
"""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "api.md"
DOCUMENT = ROOT / "api" / "openapi.yaml"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

Entry = tuple[str, str, int, "str | None"]  # method, path, status, code (None: no problem)

# In docs/api.md, not yet in api/openapi.yaml: what brings each. Empty since
# passkeys (issue 14) and the security findings (issue 17) were merged.
PENDING: dict[Entry, str] = {}


# --- docs/api.md ------------------------------------------------------------------------

ROUTE_RE = re.compile(r"`(GET|PUT|POST|DELETE|PATCH|HEAD|OPTIONS) (/[^`?\s]*)[^`]*`")


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def reference_entries(text: str) -> set[Entry]:
    entries: set[Entry] = set()
    routes: list[tuple[str, str]] = []
    in_table = False
    for line in text.splitlines():
        if line.startswith("#"):
            routes = ROUTE_RE.findall(line)
            in_table = False
            continue
        if not routes:
            continue
        if line.startswith("|"):
            cells = _cells(line)
            if not in_table:
                if len(cells) >= 2 and cells[0] == "status" and cells[1] == "code":
                    in_table = True
                continue
            if set(cells[0]) <= set("-: "):
                continue  # the header's rule
            status = int(cells[0])
            codes = re.findall(r"`([a-z_]+)`", cells[1]) or [None]
            for method, path in routes:
                for code in codes:
                    entries.add((method, path, status, code))
        elif in_table:
            routes = []  # one table per heading: the first
            in_table = False
    return entries


# --- api/openapi.yaml -------------------------------------------------------------------


def _resolve(doc: dict, node):
    while isinstance(node, dict) and "$ref" in node:
        target = doc
        for part in node["$ref"][2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _codes(doc: dict, schema) -> set[str]:
    schema = _resolve(doc, schema)
    out: set[str] = set()
    if not isinstance(schema, dict):
        return out
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in schema.get(key, []):
            out |= _codes(doc, sub)
    code = _resolve(doc, schema.get("properties", {}).get("code"))
    if isinstance(code, dict):
        out |= set(code.get("enum", []))
        if "const" in code:
            out.add(code["const"])
    return out


def document_entries(doc: dict) -> set[Entry]:
    entries: set[Entry] = set()
    for path, item in doc["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            for status, response in operation["responses"].items():
                response = _resolve(doc, response)
                codes: set[str] = set()
                for media in (response.get("content") or {}).values():
                    codes |= _codes(doc, media.get("schema", {}))
                for code in codes or {None}:
                    entries.add((method.upper(), path, int(status), code))
    return entries


def reference_routes(text: str) -> set[tuple[str, str]]:
    return {(m, p) for m, p, _, _ in reference_entries(text)}


def pending_routes() -> set[tuple[str, str]]:
    """Routes the reference has and the document will have after other
    work is merged: every entry of theirs is pending."""
    entries = reference_entries(read_reference())
    routes = {(m, p) for m, p, _, _ in entries}
    return {r for r in routes if all(e in PENDING for e in entries if e[:2] == r)}


def contract_codes(text: str) -> set[str]:
    """Every code of the reference's "Status and error codes" table."""
    section = text.split("## Status and error codes", 1)[1].split("\n## ", 1)[0]
    codes = set()
    for line in section.splitlines():
        if line.startswith("|"):
            codes |= set(re.findall(r"^\|\s*\d+\s*\|\s*`([a-z_]+)`", line))
    return codes


def read_reference() -> str:
    return REFERENCE.read_text(encoding="utf-8")
