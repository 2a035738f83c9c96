"""cutover's AWS CDK app: three stacks per stage (stateful, replication, api).

Read in this order: `config` (context -> validated `StageConfig`), `environment` (Lambda env
vars from the shared `cutover.environment` declarations), `aspects` (prod retain guard),
`stacks/` (composition only) and `constructs/` (the pieces). `app.build_app` builds it all.
"""
