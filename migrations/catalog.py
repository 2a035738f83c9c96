"""A second example, shaped unlike the seed: legacy `products` (hash `sku`) and `reviews` (hash
`productId`, range `reviewId`: a composite source key) into one `catalog` table with generic
`pk`/`sk` keys.

- A product fans out into two items: its details (`PRODUCT#<sku>` / `DETAILS`, every attribute)
  and a listing under its category (`CATEGORY#<category>` / `PRODUCT#<sku>`). Changing a
  product's category moves the listing item: the engine tombstones the old one.
- A review's key depends on a mutable attribute: `PRODUCT#<productId>` / `REVIEW#<status>#<reviewId>`.
  Publishing a review (PENDING -> PUBLISHED) is a key move.
- `ByRating` has a numeric sort key: published reviews by product, ordered by `rating` (N).
- The reviewer's e-mail never reaches the catalog: it is replaced by `reviewerHash`, an
  HMAC-SHA256 under the pinned secret `reviewer-key`. It has no inverse, and the definition says so.

    cutover check --migration migrations.catalog:MIGRATION
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeGuard

from cutover.migration import (
    Index,
    InvalidIndexKeyError,
    Inverse,
    Item,
    Key,
    Migration,
    ReservedAttributeError,
    Secret,
    Secrets,
    Source,
    Target,
    TransformError,
    shown,
)

PRODUCTS, REVIEWS = "products", "reviews"
DETAILS = "DETAILS"
UNCATEGORISED = "UNCATEGORISED"
STATUSES = ("PENDING", "PUBLISHED", "HIDDEN")  # none contains '#': REVIEW#<status>#<id> parses one way
REVIEWER_KEY = "reviewer-key"
_OWNED = frozenset({"pk", "sk", "gsi1pk", "reviewerHash"})  # set by the transform, never copied


class InvalidProductError(TransformError):
    reason = "invalid_product"


class InvalidReviewError(TransformError):
    reason = "invalid_review"


def _reject_owned(source: str, key: object, item: Mapping[str, Any]) -> None:
    clashes = sorted(k for k in item if k.startswith("_") or k in _OWNED)
    if clashes:
        raise ReservedAttributeError(
            source, key, f"carries attribute(s) {', '.join(clashes)} that the catalog transform owns; rename them"
        )


def _is_number(value: object) -> TypeGuard[int | Decimal]:
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool) and Decimal(value).is_finite()


def products(item: Mapping[str, Any]) -> list[Item]:
    """A product -> its details item and its category listing."""
    sku = item["sku"]  # the engine checked the key's type before calling
    _reject_owned(PRODUCTS, sku, item)
    name, price, category = item.get("name"), item.get("price"), item.get("category", UNCATEGORISED)
    if not isinstance(name, str) or not name.strip():
        raise InvalidProductError(PRODUCTS, sku, f"name must be a non-empty string, got {shown(name)}")
    if not _is_number(price) or price < 0:
        raise InvalidProductError(PRODUCTS, sku, f"price must be a number of at least 0, got {shown(price)}")
    if not isinstance(category, str) or not category:
        raise InvalidProductError(PRODUCTS, sku, f"category must be a non-empty string if set, got {shown(category)}")
    if "rating" in item and not _is_number(item["rating"]):
        raise InvalidIndexKeyError(
            PRODUCTS,
            sku,
            f"rating is a key of the catalog index ByRating and must be a number, got "
            f"{shown(item['rating'])}; fix or remove rating at the source",
        )
    details = {**item, "pk": f"PRODUCT#{sku}", "sk": DETAILS}
    listing = {"pk": f"CATEGORY#{category}", "sk": f"PRODUCT#{sku}", "sku": sku, "name": name, "price": price}
    return [details, listing]


def reviews(item: Mapping[str, Any], secrets: Secrets) -> list[Item]:
    """A review -> one item under its product, keyed by its status; the e-mail becomes a hash."""
    product_id, review_id = item["productId"], item["reviewId"]
    key = None  # the engine names the item by its composite key in every message
    _reject_owned(REVIEWS, key, item)
    status, rating = item.get("status"), item.get("rating")
    if status not in STATUSES:
        raise InvalidReviewError(REVIEWS, key, f"status must be one of {', '.join(STATUSES)}, got {shown(status)}")
    if not _is_number(rating) or rating != int(rating) or not 1 <= rating <= 5:
        raise InvalidReviewError(REVIEWS, key, f"rating must be a whole number from 1 to 5, got {shown(rating)}")
    out = {k: v for k, v in item.items() if k != "reviewerEmail"}
    out.update(pk=f"PRODUCT#{product_id}", sk=f"REVIEW#{status}#{review_id}")
    if status == "PUBLISHED":
        out["gsi1pk"] = f"PRODUCT#{product_id}"  # only published reviews are in ByRating
    if "reviewerEmail" in item:
        email = item["reviewerEmail"]
        if not isinstance(email, str) or not email.strip():
            raise InvalidReviewError(
                REVIEWS, key, f"reviewerEmail must be a non-empty string if set, got {shown(email)}"
            )
        out["reviewerHash"] = _hash(secrets[REVIEWER_KEY], email.strip().lower())
    return [out]


def _hash(secret: str | bytes, text: str) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def is_details(item: Mapping[str, Any]) -> bool:
    return item.get("sk") == DETAILS


def is_review(item: Mapping[str, Any]) -> bool:
    sk = item.get("sk")
    return isinstance(sk, str) and sk.startswith("REVIEW#")


def product_of(item: Mapping[str, Any]) -> Item:
    """The details item holds every product attribute: the listing adds nothing to collapse."""
    return {k: v for k, v in item.items() if k not in ("pk", "sk")}


def review_of(item: Mapping[str, Any]) -> Item:
    return {k: v for k, v in item.items() if k not in _OWNED}


_HASHED = "HMAC-SHA256 of the reviewer's e-mail under reviewer-key: the e-mail cannot be recovered"


def _mostly(good: Any, bad: Any) -> Any:
    """Valid values four times in five, so the positive path is exercised too."""
    from hypothesis import strategies as st  # only where `cutover check` runs

    return st.sampled_from([True, True, True, True, False]).flatmap(lambda ok: good if ok else bad)


def _product_items() -> Any:
    from hypothesis import strategies as st

    names = _mostly(st.text(min_size=1, max_size=20).filter(str.strip), st.sampled_from(["", " ", None, Decimal(3)]))
    prices = _mostly(
        st.decimals(min_value=0, max_value=10**6, places=2),
        st.sampled_from([Decimal(-1), "1.00", True, None]),
    )
    categories = _mostly(
        st.one_of(st.sampled_from(["books", "garden", "a#b", UNCATEGORISED]), st.text(min_size=1, max_size=8)),
        st.sampled_from(["", Decimal(7)]),
    )
    return st.fixed_dictionaries({"name": names, "price": prices}, optional={"category": categories})


def _review_items() -> Any:
    from hypothesis import strategies as st

    statuses = _mostly(st.sampled_from(STATUSES), st.sampled_from(["published", "", "DRAFT", None]))
    ratings = _mostly(st.integers(1, 5).map(Decimal), st.sampled_from([Decimal(0), Decimal("4.5"), Decimal(6), "5"]))
    emails = _mostly(
        st.builds(lambda u, d: f" {u}@{d}.Example ", st.text("abcxyz.", min_size=1), st.text("abc", min_size=1)),
        st.sampled_from(["   ", Decimal(1)]),
    )
    return st.fixed_dictionaries(
        {"status": statuses, "rating": ratings},
        optional={"reviewerEmail": emails, "title": st.text(max_size=30)},
    )


MIGRATION = Migration(
    name="catalog",
    target=Target(
        table="{service}-{stage}-catalog",
        hash_key=Key("pk"),
        range_key=Key("sk"),
        indexes=(Index("ByRating", Key("gsi1pk"), Key("rating", "N"), ("title", "reviewerHash")),),
    ),
    sources=(
        Source(
            role=PRODUCTS,
            table="{service}-{stage}-products",
            hash_key=Key("sku"),
            indexes=(Index("category-index", Key("category")),),
            transform=products,
        ),
        Source(
            role=REVIEWS,
            table="{service}-{stage}-reviews",
            hash_key=Key("productId"),
            range_key=Key("reviewId"),
            transform=reviews,
            secrets=(REVIEWER_KEY,),
        ),
    ),
    inverses=(
        Inverse(kind="product", source=PRODUCTS, matches=is_details, inverse=product_of),
        Inverse(
            kind="review",
            source=REVIEWS,
            matches=is_review,
            inverse=review_of,
            lossy={"reviewerEmail": _HASHED, "reviewerHash": _HASHED},
        ),
    ),
    secrets=(
        Secret(
            name=REVIEWER_KEY,
            parameter="/{service}/{stage}/cutover/secrets/reviewer-key",
            version=1,
            test_value="catalog-check-only-not-a-real-key",
        ),
    ),
    strategies={PRODUCTS: _product_items, REVIEWS: _review_items},
)
