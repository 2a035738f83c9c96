"""The application's HTTP API and the read-source cut-over.

Layers (dependencies point down):
- `api` (Powertools REST resolver, thin; 404/405 and every error as JSON `{"message": ...}`)
- `reads` (legacy | shadow | v3 dispatch; v3 reads the API's own writes through recent-write
  markers, see its docstring for why markers) and `shadow` (bounded, item-by-item comparison)
- `writes` (legacy only, one TransactWriteItems per request: user + normalised e-mail claim,
  order + ConditionCheck on its user) with `ledger` (claims and markers in the cutover-api table)
  and `transact` (cancellation reasons)
- `legacy_source` / `v3_source`: the two implementations of `repository.UserRepository`
- `users_table` / `orders_table` / `v3_table`: pynamodb read models per table, built per settings
- `read_source` (the SSM flag; an unreachable SSM is `FlagUnreadable`, not `FlagInvalid`),
  `telemetry` (Powertools Logger + Metrics)
The flip itself (gate, evidence, flipper) lives in `controlplane`.
"""
