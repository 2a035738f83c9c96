"""`cutover demo`: the whole job on an embedded backend, as a list of steps over one context.

`STEPS` (in `steps`) is the plan; `run_steps` executes it; each step appends rows to the summary.
"""

from cutover_cli.demo.context import DemoContext, DemoOptions
from cutover_cli.demo.runner import print_summary, run_steps
from cutover_cli.demo.steps import STEPS, Step

__all__ = ["DemoContext", "DemoOptions", "STEPS", "Step", "print_summary", "run_steps"]
