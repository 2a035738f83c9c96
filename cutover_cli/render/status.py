"""`cutover status` for a person: one screen at 80 columns, one figure per question.

Codes, keys, sequence numbers and times are never cut or wrapped mid-word (long values wrap at
spaces onto an indented line); the full detail, sequence numbers included, is in `--json`.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import click

from cutover.clock import now, parse_iso

WIDTH = 80
LABEL = 18
NUMBER_AND_UNIT = re.compile(r"(?<=\d) (?=(?:ms|s|min|h|d)\b)")  # `7 s` wraps as one word


def wrap(value: str, width: int) -> list[str]:
    """`value` wrapped at spaces, never inside a word nor between a number and its unit."""
    glued = NUMBER_AND_UNIT.sub("\xa0", value)
    body = textwrap.wrap(glued, width, break_long_words=False, break_on_hyphens=False) or [""]
    return [part.replace("\xa0", " ") for part in body]


def line(label: str, value: str) -> str:
    """`label` padded to the value column; the value wrapped at spaces, never inside a word."""
    body = wrap(value, WIDTH - LABEL)
    return "\n".join([f"{label:<{LABEL}}{body[0]}", *(f"{'':<{LABEL}}{rest}" for rest in body[1:])]).rstrip()


def pairs(label: str, items: Iterable[str]) -> str:
    """`label` then `items` joined by ", ", wrapped between items only: a `role name` pair is never split."""
    rows: list[str] = []
    for item in items:
        if rows and len(rows[-1]) + 2 + len(item) <= WIDTH - LABEL:
            rows[-1] += f", {item}"
        else:
            if rows:
                rows[-1] += ","
            rows.append(item)
    rows = rows or [""]
    return "\n".join([f"{label:<{LABEL}}{rows[0]}", *(f"{'':<{LABEL}}{rest}" for rest in rows[1:])]).rstrip()


def in_source_order(names: Iterable[str]) -> list[str]:
    """The definition's source roles in its own order, anything else after them."""
    from cutover.migration_loader import load_migration  # the process's definition (cached)

    rank = {s: i for i, s in enumerate(load_migration().roles)}
    return sorted(names, key=lambda s: (rank.get(s, len(rank)), s))


def ago(stamp: str | None, at: datetime | None = None) -> str:
    """`3 min ago` for a stored timestamp; `never` for none."""
    moment = parse_iso(stamp)
    if moment is None:
        return "never"
    seconds = max(0.0, ((at or now()) - moment).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit} ago"
    return f"{seconds:.0f} s ago"


def seconds(value: float | None) -> str:
    return "unknown" if value is None else f"{value:,.1f} s"


def replication(rep: dict[str, Any]) -> list[str]:
    lags: dict[str, float | None] = rep.get("lag_by_source") or {}
    worst = max(((v, s) for s, v in lags.items() if v is not None), default=None)
    never = in_source_order(s for s, v in lags.items() if v is None)
    if never:
        lag = f"unknown: {', '.join(never)} never synced"
    elif worst is None:
        lag = "unknown: never synced"
    else:
        lag = (
            f"{seconds(worst[0])} (worst shard, {worst[1]}; "
            + ", ".join(f"{s} {seconds(lags[s])}" for s in in_source_order(lags))
            + ")"
        )
    out = [line("replication lag", lag)]
    for p in rep.get("positions") or []:
        out.append(line(f"  {p['source']}", consumer_state(p)))
    gaps = rep.get("gaps") or []
    out.append(
        line(
            "sync gaps",
            "none"
            if not gaps
            else f"{len(gaps)}, newest {gaps[-1].get('detected_at')}: run "
            "`cutover reconcile --repair` (runbooks/sync.md)",
        )
    )
    return out


def is_stalled(updated: str | None, stalled_after: float) -> bool:
    """A consumer that has not reported for longer than `stalled_after` seconds has stopped."""
    moment = parse_iso(updated)
    return moment is not None and (now() - moment).total_seconds() > stalled_after


def consumer_state(p: dict[str, Any], stalled_after: float = 300.0) -> str:
    who = p.get("consumer") or "sync"
    if who == "sync":
        shards, done = int(p.get("shards") or 0), int(p.get("shards_done") or 0)
        position = f"sync: {done}/{shards} shards finished" if done else f"sync: {shards} shard(s) open"
    else:
        position = who
    caught = p.get("caught_up_at")
    if caught:
        position += f", caught up {ago(caught)}"
    if p.get("stalled", is_stalled(p.get("updated"), stalled_after)):
        return f"STALLED: no report {ago(p.get('updated'))} ({position})"
    return f"{position}; reported {ago(p.get('updated'))}"


def backfill(runs: Iterable[dict[str, Any]]) -> str:
    """The last run that did work (a run that found everything copied says nothing new)."""
    runs = list(runs)
    worked = next((r for r in runs if r.get("scanned_this_run")), runs[0] if runs else None)
    if worked is None:
        return "never run"
    state = "complete" if worked.get("complete") else "INCOMPLETE (run it again to resume)"
    tables = ", ".join(f"{t} {c.get('written', 0):,} written" for t, c in (worked.get("tables") or {}).items())
    return f"{state}, {ago(worked.get('finished_at'))}: {tables}"


def lease(held: dict[str, Any] | None) -> str:
    """Who holds the backfill lease (backfill.lease), so a refused `cutover backfill` is explained
    before it is run: the run, where and with what command, its last heartbeat and its expiry."""
    if not held:
        return "none (a backfill may start)"
    who = held.get("run_id") or held.get("token")
    return (
        f"held by {who} ({held.get('where')}, `{held.get('command')}`), "
        f"heartbeat {ago(held.get('heartbeat_at'))}, expires {held.get('expires_at')}"
    )


def reconcile(rec: dict[str, Any] | None) -> str:
    """One verdict: CLEAN or N differences, full or sampled, and its age."""
    if not rec:
        return "never run"
    c = rec.get("counts") or {}
    differences = sum(int(c.get(k, 0)) for k in ("missing", "extra", "different", "unquarantined"))
    if rec.get("repair"):
        differences = int(c.get("remaining", differences))
    verdict = "CLEAN" if rec.get("clean") else f"{differences} difference(s)"
    scope = f"sampled {rec['sample']:g}" if rec.get("sample") else "full"
    return f"{verdict}, {scope}, {ago(rec.get('finished_at'))} ({int(c.get('compared', 0)):,} compared)"


def pin(p: dict[str, Any]) -> str:
    """A transform secret's version now, and whether an operator moved it from the definition's."""
    if not p.get("rotated_at"):
        return f"{p['secret']} version {p['version']} (the definition's)"
    return f"{p['secret']} version {p['version']} (rotated from {p.get('previous_version')}, {ago(p['rotated_at'])})"


def render(d: dict[str, Any]) -> None:
    verdict = d["flip_to_v3"]
    tables = d.get("tables") or {}
    out = [
        f"cutover status: {d.get('service', '')}-{d.get('stage', '')}".rstrip(": -"),
        line("read-source", f"{d['read_source'] or 'none (apps serve legacy)'} ({d.get('read_source_owner')})"),
        *flag_lines(d),
        *replication(d["replication"]),
        line("last backfill", backfill(d.get("backfill_runs") or ([d["backfill"]] if d.get("backfill") else []))),
        *([line("backfill lease", lease(d["backfill_lease"]))] if "backfill_lease" in d else []),
        line("last reconcile", reconcile(d["reconcile"])),
        line("quarantine", f"{d['quarantine_open']} open"),
        *([failure_queues(d["failure_queues"])] if "failure_queues" in d else []),
        *(line("secret", pin(p)) for p in d.get("secrets") or []),
        *([shadow_lines(d["shadow"])] if d.get("shadow") else []),
        *flip_lines(d["read_source"], verdict),
        pairs("tables", (f"{role} {name}" for role, name in tables.items())),
        line("recent flips", "none" if not d["flips"] else ""),
        *(line("", flip(f)) for f in d["flips"]),
    ]
    click.echo("\n".join(x for x in out if x is not None))


def failure_queues(queues: Iterable[dict[str, Any]]) -> str:
    """Each source's on-failure queue depth (batches the replicator's event source gave up on)."""
    queues = list(queues)
    depth = {
        q["source"]: f"unreadable ({q.get('error')})" if q.get("depth") is None else str(q["depth"]) for q in queues
    }
    text = ", ".join(f"{s} {depth[s]}" for s in in_source_order(depth)) or "none"
    if any(q.get("depth") for q in queues):
        text += ": run `cutover dlq redrive`, then `cutover reconcile --repair` (runbooks/poison-record.md)"
    return line("failure queues", text)


def shadow_lines(s: dict[str, Any]) -> str:
    """This shadow phase's distinct keys compared and mismatches per kind of read, and every
    recorded mismatching key (the gate's shadow evidence; counts per outcome are in --json)."""
    mismatches = s.get("mismatches") or []
    if s.get("error"):
        text = f"unreadable ({s['error']})"
    elif not s.get("on_shadow"):
        text = "not on shadow"
    else:
        reads = s.get("reads") or {}
        since = f"since {s.get('entered_at')}" if s.get("entered_at") else "start unknown"
        per = [f"{op} {c.get('keys', 0)} keys, {c.get('mismatch', 0)} mismatched" for op, c in reads.items()]
        text = f"{since}: " + ("; ".join(per) if per else "no comparisons recorded")
    if mismatches:
        newest = mismatches[0]
        text += f"; {len(mismatches)} mismatching key(s) recorded, newest {newest.get('op')} at {newest.get('last_at')}"
    return line("shadow reads", text)


def flag_lines(d: dict[str, Any]) -> list[str]:
    """The owner edited by hand, and an SSM mirror that disagrees with what readers obey."""
    out = []
    if d.get("read_source_set_outside_flip"):
        out.append(line("", "set outside `cutover flip` (the runbook's raw command): not in recent flips"))
    mirror, param = d.get("read_source_mirror"), d["read_source_parameter"]
    if "read_source_mirror" in d and mirror != d["read_source"]:
        fix = f"`cutover flip {d['read_source']}` rewrites it" if d["read_source"] else "readers obey read-source"
        out.append(line("SSM mirror", f"{mirror or 'missing'} ({param}): mirror DISAGREES; {fix}"))
    return out


def flip_lines(read_source: str | None, verdict: dict[str, Any]) -> list[str]:
    """Whether reads may move to v3 now, each reason why not (in the order to fix them); once on
    v3, that it is done and how to roll back."""
    if read_source == "v3":
        return [line("flip to v3 now", "on v3; rollback: `cutover flip legacy`")]
    if verdict["allowed"]:
        return [line("flip to v3 now", "allowed")]
    return [line("flip to v3 now", "refused:"), *(bullet(why) for why in verdict["failures"])]


def bullet(text: str) -> str:
    """`- text` in the value column, its continuation lines hanging under the text."""
    body = wrap(text, WIDTH - LABEL - 2)
    pad = " " * LABEL
    return "\n".join([f"{pad}- {body[0]}", *(f"{pad}  {rest}" for rest in body[1:])]).rstrip()


def flip(f: dict[str, Any]) -> str:
    forced = " FORCED" if f.get("forced") else ""
    reason = f": {f['reason']}" if f.get("reason") else ""
    return f"{f.get('at')} {f.get('from')} -> {f.get('to')} by {f.get('who')}{forced}{reason}"
