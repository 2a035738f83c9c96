"""Backfill and reconcile: copy legacy into v3 without overwriting replication, then prove it.

Public API:
- `backfill.runner.run_backfill(settings, clients, ...) -> BackfillSummary`: every segment of
  every source table of the migration definition, resumable, recorded as a `backfill-run` report.
- `backfill.segment.run_segment(settings, clients, table=, segment=, segments=, run_id=, ...)`:
  the unit of work (also the body of `backfill.segment_lambda.lambda_handler`).
- `reconciler.run.run_reconcile(settings, clients, ...) -> ReconcileReport`: both
  directions, consistent re-reads, streamed report, optional version-guarded repair.

Layout: scan/checkpoint/segment/runner (copy); batch_get/compare/checker/reconcile_scan/
quarantine_sweep/repair/report/reconcile (proof); retry/rate/limits/progress (shared plumbing).
Why the write path is conditional PutItem from a thread pool: see DESIGN.md ("Backfill's write path").
"""
