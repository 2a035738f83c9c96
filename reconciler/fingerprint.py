"""The digest the merge reconcile compares instead of items: `cutover.ddb_values.digest`.

The merge (reconciler/merge_join.py) keeps one small record per item on local disk, not the item,
so it compares digests. A digest is a 32-byte BLAKE2b hash of the item's canonical form under
DynamoDB's own equality (`cutover.ddb_values`): equal digests mean equal items by the same rule
the checker's consistent re-read applies, so the merge can never call equal what the page check
would call different (the old digest rounded numbers to 28 digits; DynamoDB keeps 38).
Attributes starting with `_` are bookkeeping and never compared.
"""

from __future__ import annotations

from cutover.ddb_values import DIGEST_SIZE, canonical, digest

__all__ = ["DIGEST_SIZE", "canonical", "digest"]
