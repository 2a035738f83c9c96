"""Where moto differs from AWS in ways the rehearsal would see: one module per service, each patch
with the moto limitation it covers and the AWS behaviour it restores (tests pin each)."""
