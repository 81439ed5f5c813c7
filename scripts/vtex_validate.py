#!/usr/bin/env python3
"""Cross-check of the VTEX conformance kit with an independent validator (outside CI).

Validates, with Python's `openapi-schema-validator` (OAS30Validator, which reads OpenAPI 3.0
`nullable` natively), what crates/offernet-vtex-testkit validates in Rust with `jsonschema`:

1. every media-type `example` of the four files in ../shared/vtex-openapi/ against the schema of
   its request body or response, once without and once with the overlay
   (crates/offernet-vtex-testkit/overlay.json);
2. every fixture in crates/offernet-vtex-testkit/fixtures/: its `without_overlay` and
   `with_overlay` verdicts ("valid" / "invalid") must hold.

Formats are not checked (the files use only `int32` and `decimal`, which the Rust kit ignores as
unknown formats). Exit status 0 when everything holds, 1 otherwise.

Usage: scripts/vtex_validate.py [OPENAPI_DIR]  (default: $OFFERNET_VTEX_OPENAPI_DIR, else
../shared/vtex-openapi beside the repository). Needs openapi-schema-validator >= 0.6.
"""
import copy
import json
import os
import sys

from openapi_schema_validator import OAS30Validator

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KIT = os.path.join(ROOT, "crates", "offernet-vtex-testkit")
FILES = ["external-seller-fulfillment.json", "external-seller-marketplace.json",
         "marketplace-apis.json", "marketplace-suggestions.json"]
METHODS = ("get", "put", "post", "delete", "patch")


def unescape(token):
    return token.replace("~1", "/").replace("~0", "~")


def parent_of(doc, pointer):
    tokens = [unescape(t) for t in pointer.split("/")[1:]]
    node = doc
    for t in tokens[:-1]:
        node = node[int(t)] if isinstance(node, list) else node[t]
    return node, tokens[-1]


def get(doc, pointer):
    node, last = parent_of(doc, pointer)
    return node[int(last)] if isinstance(node, list) else node[last]


def apply_operation(doc, op):
    kind = op["op"]
    if kind in ("copy", "move"):
        value = copy.deepcopy(get(doc, op["from"]))
        if kind == "move":
            node, last = parent_of(doc, op["from"])
            del node[last]
    elif kind == "remove":
        node, last = parent_of(doc, op["path"])
        del node[last]
        return
    else:
        value = copy.deepcopy(op["value"])
    node, last = parent_of(doc, op["path"])
    if kind == "replace" and last not in node:
        raise SystemExit(f"overlay: replace of a missing member {op['path']}")
    if kind == "add" and last in node:
        raise SystemExit(f"overlay: add over an existing member {op['path']}")
    node[last] = value


def load(directory, overlay):
    docs = {}
    for name in FILES:
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            docs[name] = json.load(f)
    if overlay is not None:
        for patch in overlay["patches"]:
            for op in patch["operations"]:
                apply_operation(docs[patch["file"]], op)
    return docs


def validator(doc, pointer):
    root = {"$ref": "#" + pointer, "components": doc.get("components", {}), "paths": doc["paths"]}
    return OAS30Validator(root)


def errors(doc, pointer, instance):
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator(doc, pointer).iter_errors(instance)]


def escape(token):
    return token.replace("~", "~0").replace("/", "~1")


def examples(doc):
    """(label, pointer of the schema, example) for every media-type example with a schema."""
    for path, item in doc["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            base = f"/paths/{escape(path)}/{method}"
            parts = [("request", base + "/requestBody", op.get("requestBody", {}))]
            parts += [(status, f"{base}/responses/{escape(status)}", r)
                      for status, r in op.get("responses", {}).items()]
            for part, at, body in parts:
                for ctype, media in body.get("content", {}).items():
                    if "schema" in media and "example" in media:
                        pointer = f"{at}/content/{escape(ctype)}/schema"
                        yield f"{method.upper()} {path} {part}", pointer, media["example"]


def fixture_pointer(fx):
    base = f"/paths/{escape(fx['path'])}/{fx['method']}"
    if fx["part"] == "request":
        return base + "/requestBody/content/application~1json/schema"
    return f"{base}/responses/{fx['part']}/content/application~1json/schema"


def main():
    directory = (sys.argv[1] if len(sys.argv) > 1 else os.environ.get("OFFERNET_VTEX_OPENAPI_DIR")
                 or os.path.join(os.path.dirname(ROOT), "shared", "vtex-openapi"))
    with open(os.path.join(KIT, "overlay.json"), encoding="utf-8") as f:
        overlay = json.load(f)
    plain, patched = load(directory, None), load(directory, overlay)
    failures = 0
    for label, docs in (("without overlay", plain), ("with overlay", patched)):
        total, bad = 0, 0
        for name in FILES:
            for where, pointer, example in examples(docs[name]):
                total += 1
                errs = errors(docs[name], pointer, example)
                if errs:
                    bad += 1
                    print(f"  {label}: {name} {where}: {errs[0]}")
        print(f"examples {label}: {total - bad}/{total} valid")
        if label == "with overlay" and bad:
            failures += bad
    fixtures = sorted(f for f in os.listdir(os.path.join(KIT, "fixtures")) if f.endswith(".json"))
    for name in fixtures:
        with open(os.path.join(KIT, "fixtures", name), encoding="utf-8") as f:
            fx = json.load(f)
        for key, docs in (("without_overlay", plain), ("with_overlay", patched)):
            errs = errors(docs[fx["file"]], fixture_pointer(fx), fx["instance"])
            verdict = "invalid" if errs else "valid"
            ok = verdict == fx[key]
            failures += 0 if ok else 1
            print(f"fixture {name} {key}: {verdict} ({'as expected' if ok else 'WRONG'})"
                  + (f": {errs[0]}" if errs and not ok else ""))
    print("OK" if failures == 0 else f"{failures} FAILURES")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
