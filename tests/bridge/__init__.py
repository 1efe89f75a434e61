"""Tests of the PowerShell module and the JSON-lines bridge (aksnet.bridge)."""
