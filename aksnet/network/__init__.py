"""Network logic without I/O: addressing, plugins and their capabilities, IP budgets."""
