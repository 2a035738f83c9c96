"""moto's divergences from AWS that the rehearsal patches, one module per service, each gap with the
moto limitation it covers, the AWS page it restores and a test pinning it (`cloudformation`: the
deploy)."""
