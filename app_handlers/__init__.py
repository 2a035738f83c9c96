"""The application's HTTP API and the read-source cut-over.

Layers (dependencies point down):
- `api` (Powertools REST resolver, thin; 404/405 and every error as JSON `{"message": ...}`)
- `reads` (the seed's three reads) and `shadow` (what their comparisons know of the seed's
  records), on `routing`: the generic read routing any application calls with its two reader
  functions (the flag's one reader, bounded shadow compare item by item, v3 with legacy fallback,
  read-your-writes markers cleared only by evidence; docs/API.md)
- `writes` (legacy only, one TransactWriteItems per request: user + normalised e-mail claim,
  order + ConditionCheck on its user) with `ledger` (claims and markers in the cutover-api table)
  and `transact` (cancellation reasons)
- `legacy_source` / `v3_source`: the two implementations of `repository.UserRepository`
- `users_table` / `orders_table` / `v3_table`: pynamodb read models per table, built per settings
- `read_source` (the flag's SSM store; an unreachable SSM is `FlagUnreadable`, not `FlagInvalid`),
  `telemetry` (Powertools Logger + Metrics)
The flip itself (gate, evidence, flipper) lives in `controlplane`.
"""
