"""Schemathesis hooks for scripts/schemathesis.sh: the domain rules JSON Schema cannot state.

Schemathesis's "schema-valid request rejected" check (positive_data_acceptance) expects every
request the OpenAPI document allows to be accepted (or answered 401/403/404/409). A few of the
domain rules (../shared/design/domain.md, "Precise rules") depend on the state or compare two
values, which JSON Schema cannot say, and the engine answers them 400 `invalid_field` naming the
field:

- rule 3: a trade policy named in a body or query must exist;
- rule 3: a list price is never below the price;
- rule 5: no connection to oneself (the two account ids of the path are equal);
- rule 2: a GTIN's check digit must be right;
- webhooks: a destination the outbound guard refuses (plain `http://`, or an address literal
  that is loopback, private, link-local, metadata, ...) is 400 on `url` ("... refused"): the
  guard's setting `--outbound-allow-local` decides, which the document cannot; and a host the
  URL standard reads as a bad IPv4 address (its last label a number) is 400 "not a URL";
- integrations: the same guard on `fulfillment_endpoint`, `api_base` and `suggestions_base`
  (base URLs: no query, fragment or trailing `/`); which fields a body may or must have depends
  on `role`; `refresh_minutes` is at most `quote_ttl_minutes`; the account's currency (the
  state) must have two decimal places;
- shipping: an SLA id given twice in one profile is 400 on `slas[i].id`;
- orders: `max_prices`, when given, has one price per item (400 on `max_prices`);
- redelivery: a range's `to` below `from`, more than 9,999 after it, or beyond the newest event
  (which the state decides) is 400 on `to`.

Every webhook subscription schemathesis creates or changes is made inactive (`before_call`
below), so the server under test sends nothing anywhere (no delivery, no DNS lookup of a
generated host name): only 127.0.0.1 traffic.

The import (`POST /v1/accounts/{a}/import`) applies the same rules line by line, and one more
that depends on the state: a stock or price line naming a warehouse or SKU that neither exists
nor is created by an earlier line of the file is refused `not_found` (a single route answers
404 there, which the built-in check accepts). It answers 400 `invalid_import` listing each
refused line (`error.lines[] {line, field, code, reason}`); that answer is accepted only when
EVERY listed line is refused by one of RULES for the import.

Its body is NDJSON (`application/x-ndjson`): the document describes it as an array of line
objects, and the serializer below sends each item as one JSON line.

schemathesis.toml turns the built-in check off for exactly the operations these rules apply to
(and no other), and the check below takes its place there: it accepts a 400 only when the error
names the rule's field with the rule's reason on an operation the rule applies to, and otherwise
is the built-in check itself. Everything else of those operations is checked as before.
"""

import json
import re

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance

AFFILIATION = ["PUT", "PATCH", "DELETE"], "/v1/accounts/{s}/affiliations/{m}"
SELLER = ["PUT", "PATCH", "DELETE"], "/v1/accounts/{m}/sellers/{s}"
IMPORT = "POST /v1/accounts/{a}/import"
WEBHOOKS = {"POST /v1/accounts/{a}/webhooks", "PATCH /v1/accounts/{a}/webhooks/{id}"}
REDELIVER = "POST /v1/accounts/{a}/webhooks/{id}/redeliver"
INTEGRATION = "PUT /v1/accounts/{a}/integration"
SHIPPING = "PUT /v1/accounts/{a}/shipping"
ORDERS = "POST /v1/accounts/{m}/orders"


def _labels(methods, path):
    return {f"{m} {path}" for m in methods}


# (operations, field (a full match), words of the reason, the rule)
RULES = [
    (
        _labels(["PUT", "DELETE"], "/v1/accounts/{a}/prices/{sku}")
        | _labels(["PUT", "PATCH"], AFFILIATION[1])
        | _labels(["PUT", "PATCH"], SELLER[1])
        | _labels(["PUT"], "/v1/accounts/{a}/warehouses/{w}")
        | {IMPORT},
        r"trade_policy|trade_policies\[\d+\]",
        "does not exist",
        "domain rule 3: an unknown trade policy named anywhere is 400 invalid_field",
    ),
    (
        _labels(["PUT"], "/v1/accounts/{a}/prices/{sku}") | {IMPORT},
        r"list_price",
        "never below the price",
        "domain rule 3: list_price >= price",
    ),
    (
        _labels(*AFFILIATION) | _labels(*SELLER),
        r"account",
        "a connection to oneself is not allowed",
        "domain rule 5: a connection to oneself is 400",
    ),
    (
        _labels(["PUT"], "/v1/accounts/{a}/skus/{sku}") | {IMPORT},
        r"ean",
        "check digit",
        "domain rule 2: a GTIN with a wrong check digit is 400",
    ),
    (
        WEBHOOKS,
        r"url",
        "refused",
        "webhooks: a destination the outbound guard refuses is 400 (a server setting decides)",
    ),
    (
        WEBHOOKS,
        r"url",
        "not a URL",
        "webhooks: URL parsing (WHATWG) reads a host whose last label is a number as an IPv4"
        " address, and refuses it when it is not one (`h.example.0`): 400 `not a URL`",
    ),
    (
        {REDELIVER},
        r"to",
        "at least `from`",
        "redelivery: `to` is at least `from` and at most 9,999 after it (two values compared)",
    ),
    (
        {REDELIVER},
        r"to",
        "beyond the newest event",
        "redelivery: `to` is not beyond the newest event (the state decides)",
    ),
    (
        {INTEGRATION},
        r"fulfillment_endpoint|api_base|suggestions_base",
        "refused",
        "integrations: an endpoint the outbound guard refuses is 400 (a server setting decides)",
    ),
    (
        {INTEGRATION},
        r"fulfillment_endpoint|api_base|suggestions_base",
        "not a URL",
        "integrations: URL parsing (WHATWG) refuses a host whose last label is a number but"
        " which is not an IPv4 address: 400 `not a URL`",
    ),
    (
        {INTEGRATION},
        r"fulfillment_endpoint|api_base|suggestions_base|sales_channel|affiliate_id|quote_ttl_minutes"
        r"|refresh_minutes|follow_up_email|default_dimensions",
        "for role",
        "integrations: which fields a body may or must have depends on `role` (seller:"
        " fulfillment_endpoint and the quote settings; marketplace: api_base, suggestions_base,"
        " default_dimensions)",
    ),
    (
        {INTEGRATION},
        r"fulfillment_endpoint|api_base|suggestions_base",
        "a base URL without query",
        "integrations: an endpoint is a base URL (VTEX's paths are appended): no query, fragment"
        " or trailing `/` after a path",
    ),
    (
        {INTEGRATION},
        r"refresh_minutes",
        "at most `quote_ttl_minutes`",
        "integrations: refresh_minutes <= quote_ttl_minutes (two values compared)",
    ),
    (
        {INTEGRATION},
        r"currency",
        "two decimal places",
        "integrations: the account's currency (the state) must have two decimal places",
    ),
    (
        {SHIPPING},
        r"slas\[\d+\]\.id",
        "is given twice",
        "shipping: SLA ids are unique within a profile (JSON Schema's uniqueItems compares whole"
        " items, not one field)",
    ),
    (
        {ORDERS},
        r"max_prices",
        "one per item",
        "orders: `max_prices` has one price per item (two lengths compared)",
    ),
    (
        {ORDERS},
        r"delivery",
        "includes external seller",
        "orders: `delivery` is required when the order includes an external seller (the state decides)",
    ),
    (
        {ORDERS},
        r"document_sha256",
        "not with `delivery`",
        "orders: `document_sha256` is set by the server when `delivery` is given (two fields compared)",
    ),
    (
        {IMPORT},
        r"warehouse|sku",
        "not found",
        "import: a stock or price line naming a warehouse or SKU that neither exists nor is"
        " created by an earlier line is refused not_found (404 on the single route)",
    ),
]

OPERATIONS = set().union(*(ops for ops, _, _, _ in RULES))


def _rule(label, field, message):
    """The rule of RULES for this operation that a refusal of `field` with `message` names."""
    for ops, pattern, reason, rule in RULES:
        if label in ops and re.fullmatch(pattern, field) and reason in message:
            return rule
    return None


def _by_rule(label, response):
    """The rule this 400 answer is refused by, if it is one of RULES for this operation; for
    the import, the rules refusing its lines, if every listed line is refused by one."""
    if response.status_code != 400:
        return None
    try:
        error = response.json()["error"]
    except Exception:
        return None
    if label == IMPORT:
        lines = error.get("lines") if error.get("code") == "invalid_import" else None
        # Every refused line must be listed (an answer lists the first 1,000) and explained.
        if not isinstance(lines, list) or not lines or error.get("total") != len(lines):
            return None
        rules = [_rule(label, line.get("field") or "", line.get("reason") or "") for line in lines]
        return None if None in rules else "; ".join(sorted(set(rules)))
    return _rule(label, error.get("field") or "", error.get("message") or "")


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    """An import's body: each item of the array one JSON line (any other value, as in a
    negative case, is one line of its own). The public decorator sends the bytes returned."""
    if isinstance(value, bytes):
        return value
    items = value if isinstance(value, list) else [value]
    return "".join(json.dumps(item) + "\n" for item in items).encode("utf8")


@schemathesis.hook
def before_call(ctx, case, kwargs):
    """Webhook subscriptions stay inactive: nothing is ever sent to a generated destination."""
    label = f"{case.method.upper()} {case.operation.path}"
    if label in WEBHOOKS and isinstance(case.body, dict):
        case.body["active"] = False


@schemathesis.check
def positive_data_acceptance_but_rules(ctx, response, case):
    """positive_data_acceptance, except a 400 that one of RULES explains, on its operations."""
    label = f"{case.method.upper()} {case.operation.path}"
    if label not in OPERATIONS:
        return None  # the built-in check runs there
    if case.meta is not None and case.meta.generation.mode.is_positive and _by_rule(label, response):
        return True
    return positive_data_acceptance(ctx, response, case)
