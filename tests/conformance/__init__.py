"""The transport conformance suite: one set of behaviours run against PSRP, WinRM and SSH."""
