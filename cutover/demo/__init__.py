"""`cutover demo`: the whole job on an embedded backend, as a list of steps over one context.

`STEPS` (in `steps`) is the plan; `run_steps` executes it; each step appends rows to the summary.
"""
from cutover.demo.context import DemoContext, DemoOptions
from cutover.demo.runner import print_summary, run_steps
from cutover.demo.steps import STEPS, Step

__all__ = ["DemoContext", "DemoOptions", "STEPS", "Step", "print_summary", "run_steps"]
