"""The package's lab (prefix "akc") and a fresh store per test, from tests.labcluster."""

from __future__ import annotations

from tests.labcluster import fabric_fixture, lab_fixture

lab = lab_fixture("akc")
fabric = fabric_fixture()
