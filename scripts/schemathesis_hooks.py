"""Schemathesis hooks for scripts/schemathesis.sh: the domain rules JSON Schema cannot state.

Schemathesis's "schema-valid request rejected" check (positive_data_acceptance) expects every
request the OpenAPI document allows to be accepted (or answered 401/403/404/409). A few of the
domain rules (../shared/design/domain.md, "Precise rules") depend on the state or compare two
values, which JSON Schema cannot say, and the engine answers them 400 `invalid_field` naming the
field:

- rule 3: a trade policy named in a body or query must exist;
- rule 3: a list price is never below the price;
- rule 5: no connection to oneself (the two account ids of the path are equal);
- rule 2: a GTIN's check digit must be right.

schemathesis.toml turns the built-in check off for exactly the operations these rules apply to
(and no other), and the check below takes its place there: it accepts a 400 only when the error
names the rule's field with the rule's reason on an operation the rule applies to, and otherwise
is the built-in check itself. Everything else of those operations is checked as before.
"""

import re

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance

AFFILIATION = ["PUT", "PATCH", "DELETE"], "/v1/accounts/{s}/affiliations/{m}"
SELLER = ["PUT", "PATCH", "DELETE"], "/v1/accounts/{m}/sellers/{s}"


def _labels(methods, path):
    return {f"{m} {path}" for m in methods}


# (operations, field (a full match), words of the reason, the rule)
RULES = [
    (
        _labels(["PUT", "DELETE"], "/v1/accounts/{a}/prices/{sku}")
        | _labels(["PUT", "PATCH"], AFFILIATION[1])
        | _labels(["PUT", "PATCH"], SELLER[1])
        | _labels(["PUT"], "/v1/accounts/{a}/warehouses/{w}"),
        r"trade_policy|trade_policies\[\d+\]",
        "does not exist",
        "domain rule 3: an unknown trade policy named anywhere is 400 invalid_field",
    ),
    (
        _labels(["PUT"], "/v1/accounts/{a}/prices/{sku}"),
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
        _labels(["PUT"], "/v1/accounts/{a}/skus/{sku}"),
        r"ean",
        "check digit",
        "domain rule 2: a GTIN with a wrong check digit is 400",
    ),
]

OPERATIONS = set().union(*(ops for ops, _, _, _ in RULES))


def _by_rule(label, response):
    """The rule this 400 answer is refused by, if it is one of RULES for this operation."""
    if response.status_code != 400:
        return None
    try:
        error = response.json()["error"]
    except Exception:
        return None
    field, message = error.get("field") or "", error.get("message") or ""
    for ops, pattern, reason, rule in RULES:
        if label in ops and re.fullmatch(pattern, field) and reason in message:
            return rule
    return None


@schemathesis.check
def positive_data_acceptance_but_rules(ctx, response, case):
    """positive_data_acceptance, except a 400 that one of RULES explains, on its operations."""
    label = f"{case.method.upper()} {case.operation.path}"
    if label not in OPERATIONS:
        return None  # the built-in check runs there
    if case.meta is not None and case.meta.generation.mode.is_positive and _by_rule(label, response):
        return True
    return positive_data_acceptance(ctx, response, case)
