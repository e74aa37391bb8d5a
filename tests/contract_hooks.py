"""The one thing tests/contract.sh tells schemathesis beyond /api/openapi.json.

An Idempotency-Key names one request: the server answers a key it has seen with a different
request by 422 `idempotency_key_reused`, by design (and as documented). A generator cannot know
that, and reuses the same example key across different requests. So a generated key that is
valid (the document's pattern) gets a per-call suffix that keeps it valid; an invalid one, sent
on purpose by a negative test, goes out exactly as generated.
"""

import itertools
import re

import schemathesis

# The document's Idempotency-Key pattern (contract::idempotency_key_pattern, MAX_KEY_LEN 200).
_VALID = re.compile(r"[!-~](?:[ -~]{0,198}[!-~])?")
_calls = itertools.count()


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = case.headers or {}
    for name, value in list(headers.items()):
        if name.lower() == "idempotency-key" and isinstance(value, str) and _VALID.fullmatch(value):
            headers[name] = f"{value[:180]}-{next(_calls)}"
