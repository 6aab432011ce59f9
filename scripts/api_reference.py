"""docs/api/reference.md from the API's own OpenAPI document (tui/api/schema.py).

``python scripts/api_reference.py`` writes the page; as a MkDocs hook (mkdocs.yml ``hooks:``)
it renders the page from the document at build time, so the site never shows a stale
reference. tests/core/test_docs.py checks the committed page is what this writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PAGE = Path(__file__).resolve().parents[1] / "docs" / "api" / "reference.md"
SRC_URI = "api/reference.md"
METHODS = ("get", "post", "put", "patch", "delete")


def document() -> dict[str, Any]:
    """The document ``GET /openapi.json`` serves, with no version (the page has none)."""
    from tui.api.routes import ROUTES
    from tui.api.schema import openapi_document

    return openapi_document([op for op, _ in ROUTES], version="")


def _cell(text: object) -> str:
    """Text for one Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _schema_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _type(schema: dict[str, Any]) -> str:
    """A JSON Schema as a short Markdown type: links for named schemas."""
    if "$ref" in schema:
        name = _schema_name(schema["$ref"])
        return f"[`{name}`](#{name.lower()})"
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if "enum" in schema:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " or ".join(_type(s) for s in schema[key])
    kind = schema.get("type")
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"object of {_type(schema['additionalProperties'])}"
    if kind == "string" and "contentSchema" in schema:
        return f"string: {_type(schema['contentSchema'])} as JSON"
    if isinstance(kind, list):
        return " or ".join(f"`{k}`" for k in kind)
    return f"`{kind}`" if kind else "any JSON"


def _limits(schema: dict[str, Any]) -> str:
    words = []
    for key in ("minimum", "maximum", "minLength", "maxLength", "pattern", "default"):
        if key in schema:
            words.append(f"{key} `{json.dumps(schema[key])}`")
    for option in schema.get("anyOf", []):
        if "pattern" in option:
            words.append(f"pattern `{option['pattern']}`")
    return "; ".join(words)


def _operation(method: str, path: str, op: dict[str, Any]) -> list[str]:
    out = [f"### `{method.upper()} {path}`", "", f"**{op.get('summary', '')}**"]
    out += ["", f"Operation id `{op['operationId']}`."]
    if op.get("description"):
        out += ["", op["description"]]
    out += ["", "Needs the token." if op.get("security") else "Needs no token."]
    params = op.get("parameters", [])
    if params:
        out += [
            "",
            "| parameter | in | required | type | meaning |",
            "| --- | --- | --- | --- | --- |",
        ]
        for p in params:
            schema = p.get("schema", {})
            meaning = " ".join(x for x in (p.get("description", ""), _limits(schema)) if x)
            out.append(
                f"| `{p['name']}` | {p['in']} | {'yes' if p.get('required') else 'no'} | "
                f"{_type(schema)} | {_cell(meaning)} |"
            )
    body = op.get("requestBody")
    if body:
        for media, content in body.get("content", {}).items():
            need = "required" if body.get("required") else "optional"
            out += ["", f"Body ({need}, `{media}`): {_type(content.get('schema', {}))}"]
    out += ["", "| answer | meaning | body |", "| --- | --- | --- |"]
    for status, answer in op.get("responses", {}).items():
        bodies = [
            f"`{media}` {_type(c.get('schema', {}))}" if c.get("schema") else f"`{media}`"
            for media, c in answer.get("content", {}).items()
        ]
        headers = ", ".join(f"`{h}`" for h in answer.get("headers", {}))
        meaning = answer.get("description", "") + (f" Headers: {headers}." if headers else "")
        out.append(f"| `{status}` | {_cell(meaning)} | {_cell(', '.join(bodies))} |")
    return out


def _schema(name: str, schema: dict[str, Any]) -> list[str]:
    out = [f"### `{name}` {{ #{name.lower()} }}", ""]
    if schema.get("description"):
        out += [_cell(schema["description"]), ""]
    mapping = schema.get("discriminator", {}).get("mapping")
    if mapping:
        out += [f"One of, by `{schema['discriminator']['propertyName']}`:", ""]
        out += [f"- `{key}`: {_type({'$ref': ref})}" for key, ref in mapping.items()]
        return [*out, ""]
    props = schema.get("properties", {})
    if not props:
        return [*out, "Any JSON value." if not schema else _type(schema), ""]
    required = set(schema.get("required", []))
    out += ["| field | type | required | meaning |", "| --- | --- | --- | --- |"]
    for field, spec in props.items():
        meaning = " ".join(x for x in (spec.get("description", ""), _limits(spec)) if x)
        out.append(
            f"| `{field}` | {_type(spec)} | {'yes' if field in required else 'no'} | "
            f"{_cell(meaning)} |"
        )
    return [*out, ""]


def render(doc: dict[str, Any] | None = None) -> str:
    """The page, in Markdown."""
    doc = doc or document()
    info = doc["info"]
    out = [
        "# HTTP API reference",
        "",
        "<!-- Written by scripts/api_reference.py from tui/api/schema.py's openapi_document();"
        " do not edit by hand. -->",
        "",
        f"The OpenAPI {doc['openapi']} document `agents-tui api` serves at `GET /openapi.json`,"
        " as a page. The guide is [The HTTP API](index.md); the events of a stream are"
        " [the event protocol](events.md).",
        "",
        info.get("description", ""),
        "",
        "## Operations",
        "",
        "| operation | summary |",
        "| --- | --- |",
    ]
    operations = [
        (method, path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]
    for method, path, op in operations:
        summary = _cell(op.get("summary", ""))
        out.append(f"| [`{method.upper()} {path}`](#{op['operationId']}) | {summary} |")
    for method, path, op in operations:
        lines = _operation(method, path, op)
        lines[0] += f" {{ #{op['operationId']} }}"
        out += ["", *lines]
    components = doc.get("components", {})
    headers = components.get("headers", {})
    if headers:
        out += ["", "## Headers", "", "| header | meaning |", "| --- | --- |"]
        out += [f"| `{h}` | {_cell(v.get('description', ''))} |" for h, v in headers.items()]
    schemes = components.get("securitySchemes", {})
    if schemes:
        out += ["", "## Authentication", ""]
        for name, scheme in schemes.items():
            out.append(
                f"- `{name}`: HTTP `{scheme.get('scheme', '')}`. {scheme.get('description', '')}"
            )
    out += ["", "## Schemas", ""]
    for name, schema in components.get("schemas", {}).items():
        out += _schema(name, schema)
    return "\n".join(out).rstrip() + "\n"


def on_page_read_source(page: Any, config: Any) -> str | None:
    """MkDocs hook: the reference page straight from the document."""
    if page.file.src_uri == SRC_URI:
        return render()
    return None


if __name__ == "__main__":
    PAGE.write_text(render(), encoding="utf-8")
    print(f"wrote {PAGE}")
