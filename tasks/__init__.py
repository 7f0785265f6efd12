"""Pipeline steps: pure transforms per step, the data contract, and the thin Prefect wrappers."""
