"""Migration definitions shipped with cutover: `seed` (users/orders -> users-v3, the default) and
`catalog` (products/reviews -> catalog, a second shape). Each is a `cutover.migration.Migration`;
no engine package imports them (import-linter): the engine loads one by `module:attribute`.
"""
