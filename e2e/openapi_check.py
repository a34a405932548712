"""Every response the suite receives, checked against the OpenAPI document.

The Api client of authd_e2e.py hands each response to CONTRACT (a requests
response hook), so every test, present and future, is covered: the status
must be one the document lists for that operation (a path it does not list
must be its unknown-path answer, a method it does not list its
unknown-method answer: `x-authd-fallback-responses`), every header the
document marks required must be there and match its schema, and the body
must be of a documented media type and valid against its schema (JSON
Schema 2020-12, as OpenAPI 3.1 uses it, through Debian's python3-jsonschema).
A response the document does not describe raises ContractViolation at once
and is remembered, so a violation inside a thread fails its test too
(conftest.py).

The document is api/openapi.yaml of this checkout, or E2E_OPENAPI.
Answers of E2E_AUTH_REQUEST_URL (the auth_request example: a service behind
nginx that authd protects, not authd's own API) are left alone.
"""
from __future__ import annotations

import collections
import json
import os
import re
import threading
import urllib.parse
from pathlib import Path
from typing import Any, Iterable, Mapping

import jsonschema
import yaml

DOC_PATH = Path(os.environ.get("E2E_OPENAPI") or
                Path(__file__).resolve().parent.parent / "api" / "openapi.yaml")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class ContractViolation(AssertionError):
    pass


def _no_duplicate_keys(pairs):
    seen = {}
    for k, v in pairs:
        if k in seen:
            raise ValueError(f"member {k!r} appears twice")
        seen[k] = v
    return seen


def nginx_path(raw: str) -> str:
    """The path as nginx routes it: no query, percent-decoded, slashes
    merged, "." and ".." segments resolved."""
    path = urllib.parse.unquote(raw.split("?", 1)[0])
    path = re.sub(r"/{2,}", "/", path)
    segments: list[str] = []
    parts = path.split("/")[1:]
    for s in parts:
        if s == ".":
            continue
        if s == "..":
            if segments:
                segments.pop()
            continue
        segments.append(s)
    out = "/" + "/".join(segments)
    if parts and parts[-1] in (".", "..") and not out.endswith("/"):
        out += "/"
    return out


def _origins_not_judged() -> tuple[str, ...]:
    url = os.environ.get("E2E_AUTH_REQUEST_URL")
    return (url.rstrip("/") + "/",) if url else ()


def media_type_of(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


class OpenApiContract:
    def __init__(self, doc: dict):
        self.doc = doc
        self._resolver = jsonschema.RefResolver(base_uri="", referrer=doc)
        self._format_checker = jsonschema.FormatChecker()
        self._validators: dict[int, Any] = {}
        self._routes: list[tuple[re.Pattern, str, dict]] = []
        # Literal paths first, so /auth/sessions never reads as a template.
        for template, item in sorted(doc["paths"].items(), key=lambda kv: "{" in kv[0]):
            regex = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
            self._routes.append((re.compile(regex), template, item))
        fallbacks = doc.get("x-authd-fallback-responses", {})
        self.unknown_path = self.resolve(fallbacks["unknown-path"])
        self.unknown_method = self.resolve(fallbacks["unknown-method"])
        self.malformed_http = self.resolve(fallbacks["malformed-http"])
        self._lock = threading.Lock()
        self._not_judged = _origins_not_judged()
        self.not_authd = 0
        self.checked = 0
        self.seen: collections.Counter = collections.Counter()
        self.violations: list[str] = []

    @classmethod
    def load(cls, path: Path = DOC_PATH) -> "OpenApiContract":
        with open(path, encoding="utf-8") as f:
            return cls(yaml.safe_load(f))

    # --- the document --------------------------------------------------------------

    def resolve(self, node: Any) -> Any:
        """Follows local $refs ("#/components/...") until a real node."""
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            assert ref.startswith("#/"), f"only local references are expected, got {ref}"
            node = self.doc
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def operations(self) -> list[tuple[str, str, dict]]:
        """(METHOD, path template, operation) for every operation."""
        out = []
        for template, item in self.doc["paths"].items():
            for method in METHODS:
                if method in item:
                    out.append((method.upper(), template, item[method]))
        return out

    def find(self, method: str, path: str) -> tuple[str | None, dict | None]:
        """(template, operation); (None, None) for an unknown path,
        (template, None) for a method the path does not take."""
        for regex, template, item in self._routes:
            if regex.match(path):
                return template, item.get(method.lower())
        return None, None

    def _validator(self, schema: dict):
        v = self._validators.get(id(schema))
        if v is None:
            v = jsonschema.Draft202012Validator(schema, resolver=self._resolver,
                                                format_checker=self._format_checker)
            self._validators[id(schema)] = v
        return v

    # --- judging one response ------------------------------------------------------

    def problems(self, method: str, path: str, status: int, headers: Mapping[str, str],
                 body: bytes) -> tuple[str, list[str]]:
        """What is wrong with this response, by the document: (where, problems)."""
        method = method.upper()
        path = nginx_path(path)
        template, operation = self.find(method, path)
        if template is None:
            where = f"{method} {path} (no such path in the document)"
            allowed = {"404": self.unknown_path}
        elif operation is None:
            where = f"{method} {template} (a method the path does not take)"
            allowed = {"405": self.unknown_method}
            # A path answered only to some addresses (`x-authd-address-list`:
            # ADMIN_ALLOW) is, to every other, the unknown path, whatever the
            # method.
            if self.doc["paths"][template].get("x-authd-address-list"):
                allowed["404"] = self.unknown_path
        else:
            where = f"{method} {template}"
            allowed = operation.get("responses", {})
        response = allowed.get(str(status))
        if response is None:
            return where, [f"status {status} is not documented (documented: "
                           f"{', '.join(sorted(allowed))})"]
        return where, self._response_problems(self.resolve(response), method, headers, body)

    def _response_problems(self, response: dict, method: str, headers: Mapping[str, str],
                           body: bytes) -> list[str]:
        found = []
        lower = {k.lower(): v for k, v in headers.items()}
        for name, header in (response.get("headers") or {}).items():
            header = self.resolve(header)
            value = lower.get(name.lower())
            if value is None:
                if header.get("required"):
                    found.append(f"required header {name} is missing")
                continue
            schema = header.get("schema")
            if schema is not None:
                found += [f"header {name}: {m}" for m in self._header_problems(schema, value)]
        if method != "HEAD":
            found += self._body_problems(response, lower, body)
        return found

    def _header_problems(self, schema: dict, value: str) -> list[str]:
        instance: Any = value
        if self.resolve(schema).get("type") == "integer":
            if not re.fullmatch(r"-?\d+", value.strip()):
                return [f"{value!r} is not an integer"]
            instance = int(value)
        return [e.message for e in self._validator(schema).iter_errors(instance)]

    def _body_problems(self, response: dict, headers: Mapping[str, str], body: bytes) -> list[str]:
        content = response.get("content")
        mt = media_type_of(headers.get("content-type"))
        if not content:
            if body:
                return [f"the document gives no body, got {len(body)} bytes ({mt or 'no type'})"]
            return []
        media = {k.lower(): v for k, v in content.items()}
        if mt not in media:
            return [f"Content-Type {headers.get('content-type')!r} is not documented "
                    f"(documented: {', '.join(media)})"]
        schema = media[mt].get("schema")
        if schema is None:
            return []  # an opaque body (an image): its media type is all there is to check
        if mt == "application/json" or mt.endswith("+json"):
            try:
                instance = json.loads(body.decode("utf-8"), object_pairs_hook=_no_duplicate_keys)
            except (UnicodeDecodeError, ValueError) as e:
                return [f"the body is not JSON: {e}"]
        else:
            try:
                instance = body.decode("utf-8")
            except UnicodeDecodeError as e:
                return [f"the {mt} body is not UTF-8: {e}"]
        found = []
        for e in sorted(self._validator(schema).iter_errors(instance), key=lambda e: e.path):
            at = "/".join(str(p) for p in e.absolute_path) or "(root)"
            found.append(f"body at {at}: {e.message}")
        if mt == "application/problem+json" and isinstance(instance, dict):
            rid = headers.get("x-request-id")
            if rid is not None and instance.get("request_id") != rid:
                found.append(f"problem request_id {instance.get('request_id')!r} "
                             f"is not the X-Request-ID header {rid!r}")
        return found

    # --- the suite's hook -------------------------------------------------------------

    def check(self, method: str, path: str, status: int, headers: Mapping[str, str],
              body: bytes) -> None:
        where, found = self.problems(method, path, status, headers, body)
        template = where.split(" ", 2)[1] if " (" not in where else "(fallback)"
        with self._lock:
            self.checked += 1
            self.seen[(method.upper(), template, status)] += 1
            if found:
                text = body[:300].decode("utf-8", "replace")
                message = (f"{where} -> {status}: not as api/openapi.yaml describes it:\n  - " +
                           "\n  - ".join(found) + f"\n  body: {text!r}")
                self.violations.append(message)
        if found:
            raise ContractViolation(message)

    def check_malformed_http(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        """An answer to HTTP that nginx could not parse (no method or path
        to judge it by): the document's `malformed-http` fallback."""
        found = self._response_problems(self.malformed_http, "GET", headers, body)
        with self._lock:
            self.checked += 1
            self.seen[("-", "(malformed)", status)] += 1
            if found:
                message = (f"malformed HTTP -> {status}: not as api/openapi.yaml describes it:"
                           "\n  - " + "\n  - ".join(found))
                self.violations.append(message)
        if found:
            raise ContractViolation(message)

    def check_requests_response(self, r) -> None:
        if self._not_judged and r.request.url.startswith(self._not_judged):
            with self._lock:
                self.not_authd += 1
            return
        self.check(r.request.method, r.request.path_url, r.status_code, r.headers, r.content)

    def summary(self) -> str:
        ops = {(m, t) for m, t, _ in self.operations()}
        exercised = {(m, t) for (m, t, _s) in self.seen if (m, t) in ops}
        lines = [f"openapi: {self.checked} responses checked against {DOC_PATH.name}, "
                 f"{len(self.violations)} not as documented; "
                 f"{len(exercised)} of {len(ops)} operations exercised"
                 + (f"; {self.not_authd} answers of the auth_request example's service "
                    "left alone" if self.not_authd else "")]
        missing = sorted(ops - exercised, key=lambda mt: (mt[1], mt[0]))
        if missing:
            lines.append("  not exercised: " + ", ".join(f"{m} {t}" for m, t in missing))
        return "\n".join(lines)


def problem_code_enums(contract: OpenApiContract, response: dict) -> Iterable[str]:
    """The `code` values a problem response lists (its allOf parts merged)."""
    response = contract.resolve(response)
    for mt, media in (response.get("content") or {}).items():
        if mt != "application/problem+json":
            continue
        stack = [media.get("schema", {})]
        while stack:
            node = contract.resolve(stack.pop())
            stack += node.get("allOf", [])
            code = (node.get("properties") or {}).get("code", {})
            yield from contract.resolve(code).get("enum", [])


CONTRACT = OpenApiContract.load()
