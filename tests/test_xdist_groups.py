"""./dev test runs on two workers (`-n 2 --dist loadgroup`); tests/conftest.py puts the tests that read
the session's hub run in one group, so that the hub is run once, and the tests of a module that share a
module fixture in another. If pytest or pytest-xdist changes how a
node id carries its group, the groups are ignored without a word and every worker runs the hub itself
(pytest 9.2 with pytest-xdist 3.8 did: the suite took two minutes longer)."""

from __future__ import annotations

import pytest


def test_the_tests_of_the_hub_run_are_one_xdist_group(hub_run, request):
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not run with --dist loadgroup (./dev test is)")
    assert request.node.nodeid.endswith("@hub_run"), request.node.nodeid


@pytest.fixture(scope="module")
def built_once_per_module():
    return object()


def test_the_tests_sharing_a_module_fixture_are_one_xdist_group(built_once_per_module, request):
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not run with --dist loadgroup (./dev test is)")
    assert request.node.nodeid.endswith("@tests/test_xdist_groups.py"), request.node.nodeid
