"""Which VM a create action's title names (converge.NodeFinder): the longest name, whole
names only, case-insensitively, the first listed of two as long."""

from __future__ import annotations

from aksnet.remediation.converge import NodeFinder

NAMES = ["c1-cp-1", "c1-cp-10", "c1-linux-0", "c1-linux-1"]


def test_the_longest_whole_name_in_the_title_is_the_node() -> None:
    find = NodeFinder(NAMES)
    assert find("Create VM c1-cp-10 on hci2") == "c1-cp-10"
    assert find("Create VM c1-cp-1 on hci2") == "c1-cp-1"
    assert find("Join C1-LINUX-1 (once its VM runs)") == "c1-linux-1"
    assert find("Join c1-cp-10 to c1-cp-1") == "c1-cp-10"


def test_a_name_inside_a_longer_word_is_not_a_match() -> None:
    find = NodeFinder(NAMES)
    assert find("Create VM c1-cp-100 on hci2") is None
    assert find("Copy xc1-linux-0") is None
    assert find("Set up the hosts") is None
    assert NodeFinder([])("Create VM c1-cp-1") is None


def test_of_two_names_as_long_the_first_listed_wins() -> None:
    assert NodeFinder(["c1-linux-1", "c1-linux-0"])("c1-linux-0 and c1-linux-1") == "c1-linux-1"
    assert NodeFinder(["c1-linux-0", "c1-linux-1"])("c1-linux-0 and c1-linux-1") == "c1-linux-0"
