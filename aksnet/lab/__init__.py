"""The embedded lab: an emulated Azure Stack HCI that speaks the real protocols. It is a lab."""
