"""cutover: move live DynamoDB data from the legacy users/orders tables into the v3 single table.

The package holds what every unit shares: names and table definitions (`names`), settings
(`settings`), the endpoint-aware AWS client factory (`aws`), the local backend (`local`) and the
CLI (`cli`). Domain logic lives in `replicator`, `backfill` and `app_handlers`.
"""
