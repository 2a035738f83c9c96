"""The second example, migrations.catalog, by example: a fan-out, key moves on a mutable attribute,
a numeric index sort key, a hashed personal field under a pinned secret, composite-key errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cutover.migration import InvalidIndexKeyError, ReservedAttributeError, Secrets, TransformError
from migrations.catalog import MIGRATION, InvalidProductError, InvalidReviewError

SECRETS = MIGRATION.test_secrets()


def keys(role, item, secrets=SECRETS):
    return [MIGRATION.target_key(out) for out in MIGRATION.transform(role, item, secrets)]


def test_a_product_fans_out_into_details_and_a_category_listing():
    item = {"sku": "s1", "name": "Pen", "price": Decimal("1.50"), "category": "office", "colour": "blue"}
    assert MIGRATION.transform("products", item) == [
        {**item, "pk": "PRODUCT#s1", "sk": "DETAILS"},
        {"pk": "CATEGORY#office", "sk": "PRODUCT#s1", "sku": "s1", "name": "Pen", "price": Decimal("1.50")},
    ]


def test_changing_a_category_moves_the_listing_and_keeps_the_details():
    before = {"sku": "s1", "name": "Pen", "price": Decimal(1)}
    after = {**before, "category": "office"}
    assert keys("products", before) == [("PRODUCT#s1", "DETAILS"), ("CATEGORY#UNCATEGORISED", "PRODUCT#s1")]
    assert keys("products", after) == [("PRODUCT#s1", "DETAILS"), ("CATEGORY#office", "PRODUCT#s1")]


def test_publishing_a_review_is_a_key_move_into_by_rating():
    pending = {"productId": "s1", "reviewId": "r1", "status": "PENDING", "rating": Decimal(4)}
    published = {**pending, "status": "PUBLISHED"}
    (p,) = MIGRATION.transform("reviews", pending, SECRETS)
    (q,) = MIGRATION.transform("reviews", published, SECRETS)
    assert MIGRATION.target_key(p) == ("PRODUCT#s1", "REVIEW#PENDING#r1") and "gsi1pk" not in p
    assert MIGRATION.target_key(q) == ("PRODUCT#s1", "REVIEW#PUBLISHED#r1") and q["gsi1pk"] == "PRODUCT#s1"
    assert q["rating"] == Decimal(4)  # ByRating's numeric sort key


def test_the_reviewers_email_becomes_a_keyed_hash_and_never_reaches_the_catalog():
    review = {"productId": "s1", "reviewId": "r1", "status": "HIDDEN", "rating": Decimal(1)}
    (a,) = MIGRATION.transform("reviews", {**review, "reviewerEmail": " Ann@Example.com "}, SECRETS)
    (b,) = MIGRATION.transform("reviews", {**review, "reviewerEmail": "ann@example.com"}, SECRETS)
    other = Secrets({"reviewer-key": "another key"}, {"reviewer-key": 2})
    (c,) = MIGRATION.transform("reviews", {**review, "reviewerEmail": "ann@example.com"}, other)
    assert "reviewerEmail" not in a and len(a["reviewerHash"]) == 64
    assert a["reviewerHash"] == b["reviewerHash"] != c["reviewerHash"]
    assert "example" not in repr(a)
    assert MIGRATION.secret("reviewer-key").selector("svc", "prod") == "/svc/prod/cutover/secrets/reviewer-key:1"


@pytest.mark.parametrize(
    "role,item,error,message",
    [
        (
            "reviews",
            {"productId": "s1", "reviewId": "r1", "status": "DRAFT", "rating": Decimal(3)},
            InvalidReviewError,
            'reviews item {"productId":"s1","reviewId":"r1"}: status must be one of PENDING, PUBLISHED, HIDDEN, '
            'got string "DRAFT"',
        ),
        (
            "reviews",
            {"productId": "s1", "reviewId": "r1", "status": "PENDING", "rating": Decimal("4.5")},
            InvalidReviewError,
            'reviews item {"productId":"s1","reviewId":"r1"}: rating must be a whole number from 1 to 5, '
            "got number 4.5",
        ),
        (
            "reviews",
            {"productId": "s1", "reviewId": "r1", "status": "PENDING", "rating": Decimal(3), "pk": "x"},
            ReservedAttributeError,
            'reviews item {"productId":"s1","reviewId":"r1"}: carries attribute(s) pk that the catalog transform '
            "owns; rename them",
        ),
        (
            "products",
            {"sku": "s1", "name": "Pen", "price": "1.00"},
            InvalidProductError,
            "products item 's1': price must be a number of at least 0, got string \"1.00\"",
        ),
        (
            "products",
            {"sku": "s1", "name": "Pen", "price": Decimal(1), "rating": "good"},
            InvalidIndexKeyError,
            "products item 's1': rating is a key of the catalog index ByRating and must be a number, got string "
            '"good"; fix or remove rating at the source',
        ),
    ],
)
def test_bad_input_is_one_line_naming_the_composite_key(role, item, error, message):
    with pytest.raises(error) as info:
        MIGRATION.transform(role, item, SECRETS)
    assert str(info.value) == message and isinstance(info.value, TransformError)


def test_inverses_collapse_the_fan_out_and_skip_the_hashed_field():
    product = {"sku": "s1", "name": "Pen", "price": Decimal(1), "category": "office"}
    details, listing = MIGRATION.transform("products", product)
    (inverse,) = [i for i in MIGRATION.inverses if i.matches(details)]
    assert inverse.kind == "product" and inverse.inverse(details) == product
    assert not any(i.matches(listing) for i in MIGRATION.inverses)
    review = {"productId": "s1", "reviewId": "r1", "status": "PUBLISHED", "rating": Decimal(5), "reviewerEmail": "a@b"}
    (y,) = MIGRATION.transform("reviews", review, SECRETS)
    (rev,) = [i for i in MIGRATION.inverses if i.matches(y)]
    assert rev.inverse(y) == {k: v for k, v in review.items() if k != "reviewerEmail"}
    assert set(rev.lossy) == {"reviewerEmail", "reviewerHash"}
