#!/usr/bin/env python3
"""Checks Herald's answers against its OpenAPI document, with readers that
are not Herald's own (PyYAML, jsonschema).

  check_openapi.py openapi.yaml routes.json exchanges.json

routes.json: [[METHOD, "/path/{param}"], ...] as the daemon's router holds them.
exchanges.json: [{"method","template","status","content_type","body"}, ...]
as the test made them.

Fails (exit 1, one line per problem) when a route is not documented, a
documented operation was never exercised, or an answer's status or body is
not what the document says for it.
"""
import json, sys
import yaml
from jsonschema import Draft202012Validator, RefResolver

doc = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
routes = json.load(open(sys.argv[2], encoding="utf-8"))
exchanges = json.load(open(sys.argv[3], encoding="utf-8"))
resolver = RefResolver.from_schema(doc)
problems = []

def resolve(node):
    while isinstance(node, dict) and "$ref" in node:
        node = resolver.resolve(node["$ref"])[1]
    return node

documented = {(method.upper(), path) for path, item in doc["paths"].items()
              for method in item if method in ("get", "put", "post", "delete", "patch")}
for method, path in routes:
    if (method, path) not in documented:
        problems.append(f"route {method} {path} is not in the document")
for method, path in sorted(documented - {(m, p) for m, p in routes}):
    problems.append(f"documented {method} {path} is not a route")
exercised = {(e["method"], e["template"]) for e in exchanges}
for method, path in sorted(documented - exercised):
    problems.append(f"documented {method} {path} was never called by the test")

checked = 0
for e in exchanges:
    operation = doc["paths"].get(e["template"], {}).get(e["method"].lower())
    if operation is None:
        continue
    responses = operation.get("responses", {})
    response = responses.get(str(e["status"]), responses.get("default"))
    where = f'{e["method"]} {e["template"]} -> {e["status"]}'
    if response is None:
        problems.append(f"{where}: status not documented (documented: {', '.join(sorted(responses))})")
        continue
    content = resolve(response).get("content")
    if not content:
        if e["body"]:
            problems.append(f"{where}: documented without a body, answered {e['body'][:80]!r}")
        continue
    media = (e["content_type"] or "").split(";")[0].strip()
    if media not in content:
        problems.append(f"{where}: answered {media or 'no content type'}, documented {', '.join(content)}")
        continue
    schema = content[media].get("schema")
    if media != "application/json" or schema is None:
        continue
    try:
        body = json.loads(e["body"])
    except ValueError as error:
        problems.append(f"{where}: not JSON: {error}")
        continue
    validator = Draft202012Validator(schema, resolver=resolver)
    for error in sorted(validator.iter_errors(body), key=lambda error: list(error.path)):
        path = "/".join(str(p) for p in error.path)
        problems.append(f"{where}: at /{path}: {error.message[:200]}")
    checked += 1

for problem in problems:
    print(problem)
print(f"{len(routes)} routes, {len(documented)} documented operations, {len(exchanges)} answers, {checked} bodies checked, {len(problems)} problems")
sys.exit(1 if problems else 0)
