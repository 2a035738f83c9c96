"""Where moto differs from AWS in ways the rehearsal would see: one module per service, each patch
with the moto limitation it covers, the AWS page it restores and a test pinning it
(`cloudformation` and `dynamodb`: the deploy; `lambda_` and `stepfunctions`: the runs)."""
