"""The maintainers' fetch (probe, detect, fixture save): reads capped at the crawl's page size,
redirects judged hop by hop with a mocked resolver. Traffic goes only to 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from benchmarks.faultcases.hostile import ROOT, fake_resolve, local_server
from crawlers.engine.settings import DOWNLOAD_MAXSIZE
from crawlers.items import PageRequest
from crawlers.tools.fixturesave import FixtureSaveError
from crawlers.tools.fixturesave import _fetch as fixture_fetch
from crawlers.tools.probe import PoliteFetcher, ProbeError
from crawlers.tools.toolfetch import FetchError, check_redirect, is_internal

pytestmark = pytest.mark.faults

# Run in a child process, so that its peak memory is the fetch's alone.
_HUGE_FETCH = """
import json, sys
from benchmarks.faultcases.hostile import fake_resolve
from crawlers.items import PageRequest
from crawlers.tools.probe import PoliteFetcher, ProbeError
try:
    PoliteFetcher("policywatch-test", 0.0, resolve=fake_resolve).fetch(PageRequest(url=sys.argv[1]))
    outcome = "read whole"
except ProbeError as exc:
    outcome = str(exc)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the (large) pytest process forked.
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"outcome": outcome, "peak_mb": hwm / 1024}))
"""


@pytest.mark.timeout(120)
def test_a_500_mb_answer_is_refused_at_the_page_cap_in_bounded_memory():
    with local_server() as base:
        done = subprocess.run([sys.executable, "-c", _HUGE_FETCH, f"{base}/huge"], cwd=ROOT,
                              capture_output=True, text=True, timeout=100)
    result = json.loads(done.stdout)
    assert result["outcome"] == (f"refused {base}/huge: the response passed the {DOWNLOAD_MAXSIZE:,} bytes "
                                 "a page may have (DOWNLOAD_MAXSIZE)")
    assert result["peak_mb"] < 250  # the interpreter and the project's imports, plus at most 8 MB


@pytest.mark.timeout(120)
def test_fixture_save_of_a_500_mb_url_fails_with_one_line():
    with local_server() as base:
        done = subprocess.run([sys.executable, "-m", "scheduler", "fixture", "save", "jx_gov", f"{base}/huge",
                               "--url", "https://www.jiangxi.gov.cn/art/2024/1/2/art_1_1.html"],
                              cwd=ROOT, capture_output=True, text=True, timeout=100)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "DOWNLOAD_MAXSIZE" in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("path, internal", [
    ("to-loopback", "127.0.0.1"), ("to-metadata", "169.254.169.254"), ("to-intranet", "10.1.2.3")])
def test_a_redirect_from_a_public_host_to_an_internal_address_is_refused(path, internal):
    with local_server() as base:
        fetcher = PoliteFetcher("policywatch-test", 0.0, replay_url=base, resolve=fake_resolve)
        with pytest.raises(ProbeError) as refused:
            fetcher.fetch(PageRequest(url=f"http://www.example.gov.cn/{path}"))
    assert str(refused.value).startswith(f"refused the redirect from http://www.example.gov.cn/{path} to ")
    assert f"internal address {internal}" in str(refused.value)


def test_public_redirects_and_the_private_url_the_user_typed_are_followed():
    with local_server() as base:
        portal = PoliteFetcher("policywatch-test", 0.0, replay_url=base, resolve=fake_resolve)
        assert portal.fetch(PageRequest(url="http://www.example.gov.cn/to-public")).status == 200
        typed = PoliteFetcher("policywatch-test", 0.0, resolve=fake_resolve)
        # The user typed 127.0.0.1; its redirect to 127.0.0.1 stays inside what they asked for.
        got = typed.fetch(PageRequest(url=f"{base}/to-loopback"))
    assert got.status == 200 and b"a page" in got.body


def test_fixture_save_refuses_an_internal_redirect_too():
    with local_server() as base:
        with pytest.raises(FixtureSaveError, match="refused the redirect"):
            fixture_fetch("http://www.example.gov.cn/to-metadata", base, resolve=fake_resolve)


@pytest.mark.parametrize("address, internal", [
    ("127.0.0.1", True), ("10.0.0.1", True), ("192.168.1.1", True), ("169.254.169.254", True),
    ("100.64.0.1", True), ("0.0.0.0", True), ("::1", True), ("fe80::1", True), ("::ffff:127.0.0.1", True),
    ("fd00::1", True), ("202.96.128.86", False), ("2001:4860:4860::8888", False)])
def test_internal_addresses(address, internal):
    assert is_internal(address) is internal


def test_a_redirect_to_a_host_that_cannot_be_resolved_names_it():
    with pytest.raises(FetchError, match="could not resolve nowhere.example"):
        check_redirect("http://www.example.gov.cn/", "http://nowhere.example/", fake_resolve)
