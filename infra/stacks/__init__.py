"""The three stacks per stage. Stacks only compose constructs; the pieces live in infra/constructs."""
