"""Infrastructure pieces aksnet builds for hosts and VMs: seed ISOs, host keys, and more."""
