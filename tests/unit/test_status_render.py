"""`cutover status` reads at a glance at 80 columns: one lag figure, verdict lines, nothing cut."""

from __future__ import annotations

from datetime import timedelta

from cutover.clock import iso, now
from cutover_cli.render.status import render


def _data(**over):
    t = now()
    data = {
        "service": "my-service",
        "stage": "prod",
        "read_source": "shadow",
        "read_source_parameter": "/my-service/prod/cutover/read-source",
        "read_source_owner": "my-service-prod-cutover-reports flip/control",
        "read_source_mirror": "shadow",
        "replication": {
            "lag_seconds": 5.8,
            "lag_by_source": {"users": 0.4, "orders": 5.8},
            "positions": [
                {"source": "users", "shards": 1, "shards_done": 0, "caught_up_at": iso(t), "updated": iso(t)},
                {
                    "source": "orders",
                    "shards": 3,
                    "shards_done": 2,
                    "caught_up_at": None,
                    "updated": iso(t - timedelta(minutes=20)),
                },
            ],
            "gaps": [],
        },
        "backfill_runs": [
            {"scanned_this_run": 0, "complete": True, "finished_at": iso(t), "tables": {"users": {"written": 9}}},
            {
                "scanned_this_run": 3000,
                "complete": True,
                "finished_at": iso(t - timedelta(hours=2)),
                "tables": {"users": {"written": 2500}, "orders": {"written": 500}},
            },
        ],
        "reconcile": {
            "clean": False,
            "sample": 0.05,
            "finished_at": iso(t - timedelta(minutes=3)),
            "counts": {"compared": 150, "missing": 2, "extra": 1, "different": 0, "unquarantined": 0},
        },
        "quarantine_open": 7,
        "flip_to_v3": {
            "allowed": False,
            "failures": [
                "the last reconcile is a sample (0.05): run a full `cutover reconcile` (a sample proves nothing about "
                "the rest) invalid_user_id_reason_code_kept_whole"
            ],
        },
        "tables": {
            "users": "my-service-prod-users",
            "orders": "my-service-prod-orders",
            "v3": "my-service-prod-users-v3",
        },
        "flips": [{"at": iso(t), "from": "legacy", "to": "shadow", "who": "ann@host", "reason": "cut-over day"}],
    }
    data.update(over)
    return data


def test_every_line_fits_80_columns_and_no_code_is_split(capsys):
    render(_data())
    out = capsys.readouterr().out
    assert all(len(line) <= 80 for line in out.splitlines()), out
    assert "invalid_user_id_reason_code_kept_whole" in out  # whole, on one line


def test_one_lag_figure_with_its_source_and_consumer_states(capsys):
    render(_data())
    out = capsys.readouterr().out
    assert out.count("replication lag") == 1 and "5.8 s (worst shard, orders;" in out
    assert "sync: 1 shard(s) open, caught up" in out  # not "shards done 0/1"
    assert "STALLED: no report 20 min ago" in out


def test_reconcile_and_backfill_are_one_verdict_line_each(capsys):
    render(_data())
    out = capsys.readouterr().out
    assert "3 difference(s), sampled 0.05, 3 min ago (150 compared)" in out
    assert "complete, 2 h ago: users 2,500 written, orders 500 written" in out  # the last run that did work
    assert "None" not in out


def test_a_number_and_its_unit_stay_on_one_line():
    from cutover_cli.render.status import line

    # Given a value whose wrap point falls between `7` and `s ago`
    text = line("  users", "x" * 59 + " 7 s ago")
    # Then the number keeps its unit
    assert not any(row.strip().startswith(("s ago", "s)")) for row in text.splitlines()), text
    assert "7 s ago" in text


def test_another_migrations_source_roles_each_get_their_row(capsys):
    # Given the status of the catalog migration (roles products and reviews, target catalog)
    t = now()
    positions = [
        {"source": role, "shards": 1, "shards_done": 0, "caught_up_at": iso(t), "updated": iso(t)}
        for role in ("products", "reviews")
    ]
    render(
        _data(
            replication={
                "lag_seconds": 1.2,
                "lag_by_source": {"products": 1.2, "reviews": 0.3},
                "positions": positions,
                "gaps": [],
            },
            backfill_runs=[
                {
                    "scanned_this_run": 40,
                    "complete": True,
                    "finished_at": iso(t),
                    "tables": {"products": {"written": 30}, "reviews": {"written": 10}},
                }
            ],
            tables={"products": "svc-prod-products", "reviews": "svc-prod-reviews", "v3": "svc-prod-catalog"},
        )
    )
    out = capsys.readouterr().out
    # Then each role has its consumer row, its lag, its backfill count, and its table; no seed role appears
    lines = out.splitlines()
    assert any(line.strip().startswith("products") and "sync" in line for line in lines), out
    assert any(line.strip().startswith("reviews") and "sync" in line for line in lines), out
    assert "1.2 s (worst shard, products;" in out and "products 30 written, reviews 10 written" in out
    assert "products svc-prod-products" in " ".join(out.split()) and "users" not in out and "orders" not in out


def test_each_on_failure_queue_shows_its_depth_and_an_unreadable_one_says_so(capsys):
    # Given the users' queue holding 2 discarded batches and the orders' queue unreadable
    queues = [
        {"source": "users", "queue": "q-users", "depth": 2, "sent": 2, "error": None},
        {"source": "orders", "queue": "q-orders", "depth": None, "sent": None, "error": "AccessDenied: no"},
    ]
    render(_data(failure_queues=queues))
    out = capsys.readouterr().out
    # Then one line shows each queue's depth, in the sources' order, and the fix
    assert "failure queues    users 2, orders unreadable (AccessDenied: no)" in out, out
    assert "`cutover dlq redrive`" in " ".join(out.split())  # wrapped at spaces, never inside a word


def test_each_transform_secret_shows_its_pinned_version_and_when_it_rotated(capsys):
    # Given a secret rotated 5 minutes ago and one never rotated
    rotated = {
        "secret": "reviewer-key",
        "version": 2,
        "previous_version": 1,
        "rotated_at": iso(now() - timedelta(minutes=5)),
    }
    never = {"secret": "card-key", "version": 3, "declared_version": 3, "rotated_at": None}
    render(_data(secrets=[rotated, never]))
    out = capsys.readouterr().out
    # Then each has one line: its version now, and when it moved from the definition's
    assert "reviewer-key version 2 (rotated from 1, 5 min ago)" in out
    assert "card-key version 3 (the definition's)" in out
    render(_data())
    assert "secret" not in capsys.readouterr().out  # a definition without secrets shows no row


def test_the_backfill_lease_names_its_holder_or_says_none(capsys):
    # Given a backfill run holding the lease, its last heartbeat 2 minutes ago
    expires = iso(now() + timedelta(minutes=8))
    held = {
        "token": "local:ab12cd34ef56",
        "run_id": "bf-20261202-1",
        "where": "ops-host pid 4242",
        "command": "cutover backfill",
        "heartbeat_at": iso(now() - timedelta(minutes=2)),
        "expires_at": expires,
    }
    render(_data(backfill_lease=held))
    out = " ".join(capsys.readouterr().out.split())
    # Then one line says who holds it, where, with what command, and until when
    assert (
        "backfill lease held by bf-20261202-1 (ops-host pid 4242, `cutover backfill`), heartbeat 2 min ago, "
        f"expires {expires}" in out
    ), out
    # And with no live lease it says so; a status without the lease field shows no row
    render(_data(backfill_lease=None))
    assert "backfill lease none (a backfill may start)" in " ".join(capsys.readouterr().out.split())
    render(_data())
    assert "backfill lease" not in capsys.readouterr().out


def test_the_shadow_phase_shows_keys_and_mismatches_per_kind_of_read(capsys):
    # Given a shadow phase with two kinds of read and one recorded mismatch
    t = now()
    counts = {"match": 40, "mismatch": 1, "expected": 0, "uncomparable": 0, "skipped": 3, "error": 0}
    shadow = {
        "on_shadow": True,
        "entered_at": iso(t - timedelta(minutes=20)),
        "reads": {"get_user": {**counts, "keys": 37}, "orders_of": {**dict.fromkeys(counts, 0), "keys": 0}},
        "mismatches": [{"op": "get_user", "keys": {"userId": "u1"}, "last_at": iso(t)}],
        "error": None,
    }
    render(_data(shadow=shadow))
    out = " ".join(capsys.readouterr().out.split())
    # Then one line says, per kind of read, the distinct keys compared and the mismatches
    assert "shadow reads since " in out and "get_user 37 keys, 1 mismatched; orders_of 0 keys, 0 mismatched" in out
    assert "1 mismatching key(s) recorded, newest get_user at" in out
    render(_data(shadow={**shadow, "on_shadow": False, "mismatches": []}))
    assert "shadow reads not on shadow" in " ".join(capsys.readouterr().out.split())
