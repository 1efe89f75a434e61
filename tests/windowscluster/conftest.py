"""The package's lab (prefix "akx") and a fresh store per test, from tests.labcluster; a
Windows VM the hosts start is a namespace with an emulated Windows node on port 5986.
windows_session stays importable from here for the modules that name it so."""

from __future__ import annotations

from tests.labcluster import fabric_fixture, lab_fixture
from tests.labcluster import windows_session as windows_session

lab = lab_fixture("akx")
fabric = fabric_fixture()
