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
  function from its zip, in a child process; `moto_gaps/`: where moto differs from AWS, patched.

moto's own IAM enforcement matches actions but leaves Resource and Condition as a TODO, so a
table-scoped grant never matches there; hence this checker.
"""
