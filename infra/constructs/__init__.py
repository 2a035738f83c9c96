"""Reusable pieces the stacks compose: tables from TableSpecs, Lambda functions, monitoring..."""
