"""Pipeline stages: small functions with clear inputs and outputs."""
