"""A team's own definition whose transform uses third-party libraries (test only).

`rsa` is pure Python and requires `pyasn1` (pure Python too): both are installed in cutover's
virtualenv, neither is in cutover's own Lambda bundle, so a deployment of this definition works
only if synth bundles what `requires` names, and what that requires. The transform imports `rsa`
at module level and `pyasn1` inside its body, where only synth's scan of the loaded modules sees
it. It lives under tests/infrastructure/definitions, which a test puts on sys.path, so its
top-level package is `acme_members`, not `tests`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import rsa.transform

from cutover.migration import Key, Migration, Source, Target, TransformError


class MissingEmailError(TransformError):
    reason = "missing_email"


def members(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One member -> its target item, the e-mail replaced by a DER-encoded integer of its digest."""
    from pyasn1.codec.der import encoder
    from pyasn1.type import univ

    email = item.get("email")
    if not isinstance(email, str) or not email:
        raise MissingEmailError("members", item.get("memberId"), "has no email: give it one")
    number = rsa.transform.bytes2int(hashlib.sha256(email.encode()).digest()[:8])
    token = encoder.encode(univ.Integer(number)).hex()
    return [{"pk": f"MEMBER#{item['memberId']}", "sk": "A", "token": token}]


MIGRATION = Migration(
    name="acme-members",
    target=Target(table="{service}-{stage}-members", hash_key=Key("pk"), range_key=Key("sk")),
    sources=(
        Source(role="members", table="{service}-{stage}-legacy-members", hash_key=Key("memberId"), transform=members),
    ),
    requires=("rsa",),
)
