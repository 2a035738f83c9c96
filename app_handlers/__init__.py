"""The application's HTTP API and the read-source cut-over.

Layers (dependencies point down):
- `api` (Powertools REST resolver, thin) and `http_bridge` (local HTTP -> API Gateway v1 events)
- `reads` (legacy | shadow | v3 dispatch, shadow comparison, fallback) and `writes` (legacy only)
- `legacy_source` / `v3_source`: the two implementations of `repository.UserRepository`
- `users_table` / `orders_table` / `v3_table`: pynamodb models per table, built per runtime settings
- `read_source` (the SSM flag), `telemetry` (Powertools Logger + Metrics)
- `flipper`, `evidence`: the guarded flip shared by `cutover flip`, `cutover status` and the demo;
  the interlock rules themselves are pure, in `controlplane.gate`.
"""
