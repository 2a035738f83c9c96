"""The local AWS rehearsal (issue 20): what only a deploy would show, shown before one.

- `policy`: a function's IAM policy read from its synthesized template, and whether it allows a
  call (action x resource ARN), as AWS evaluates identity policies.
- `calls`: the IAM action and resource ARNs of a boto3 call (tables, indexes, streams,
  parameters by path, queues, state machines).
- `enforce`: every boto3 call of this process checked against a policy first; a call the policy
  does not allow fails with AccessDeniedException, as on AWS.
- `stage`, `deploy`, `rehearse`: `cutover rehearse`'s deploy of a synthesized stage into a local
  moto server through CloudFormation (legacy tables, bootstrap, assets, stacks in dependency
  order, CloudFormation's reason for a failure) and its report; `grants`: the checker's static
  findings on the deployed policies; `handler_process`: one invocation of a deployed Python
  function from its zip, in a child process (the custom resources).
- `machines`: a synthesized stack's functions, roles, state machines and published names created
  in the emulator directly (the intrinsics resolved as CloudFormation would), for the remote
  runs' tests.
- `lambdas` / `worker`: each deployed function run in its own process, from its asset folder,
  with its synthesized environment, its role's credentials and its policy enforced.
- `moto_gaps/`: where moto differs from AWS in ways a run would see, one module per service
  (CloudFormation: custom resources, failures, tag shapes, public parameters; DynamoDB: stream
  labels; Lambda: run the handler, not Docker; Step Functions: endpoint, retries, map failures
  and result size, history order).

moto's own IAM enforcement matches actions but leaves Resource and Condition as a TODO, so a
table-scoped grant never matches there; hence this checker.
"""
