"""The operator's side of cutover: the `cutover` CLI, the demo, the local backend, progress display.

This is the top layer: nothing else in the project imports it, and no Lambda bundle ships it.
- `app`: the click group (`main`, the console script) and exit codes; `commands/`: one module per
  command, each a thin call into the domain packages.
- `local_backend`: the embedded moto server and `cutover init` (tables from `cutover.names`).
- `demo/`: `make demo`'s whole lifecycle; `progress/`: rich progress bars and summaries.
- `http_bridge`: a local HTTP server that turns requests into API Gateway events for `cutover api`.
"""
