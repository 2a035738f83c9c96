"""cutover's AWS CDK app: three stacks per stage (stateful, replication, api).

Read in this order: `config` (context -> validated `StageConfig`), `environment` (Lambda env
vars from the shared `cutover.environment` declarations), `retention` (no deploy deletes state,
checked on the synthesized templates),
`policy_skips` (reviewed checkov skips),
`stacks/` (composition only) and `constructs/` (the pieces). `app.build_app` builds it all.
"""
