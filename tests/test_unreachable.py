"""An unreachable portal fails its crawl within seconds, with one line saying why, and health/
`status` call it unreachable. The crawl is real (every request sent to a closed port on
127.0.0.1); DNS failures are fed to the middleware directly (no resolver traffic)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from types import SimpleNamespace

import pytest
from scrapy import Request
from scrapy.exceptions import CannotResolveHostError, DownloadTimeoutError
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from benchmarks.faultcases.hostile import ROOT, crawl_unreachable
from crawlers.engine import settings as crawl_settings
from crawlers.engine.middlewares import Unreachable, UnreachableMiddleware
from pipelines.health import assess

pytestmark = pytest.mark.faults


@pytest.mark.timeout(120)  # RETRY_TIMES with growing delays took minutes; a hang fails here
def test_a_crawl_of_a_closed_port_fails_with_one_line_per_site_and_status_says_unreachable(tmp_path):
    db = tmp_path / "corpus.db"
    done = crawl_unreachable(db)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and "ERROR" not in done.stderr
    said = [line for line in done.stderr.splitlines() if "is unreachable (connection refused" in line]
    assert sorted(line.split("crawlers.engine.middlewares: ")[1].split(":")[0] for line in said) == ["jx_gov", "sx_gov"]
    with sqlite3.connect(db) as conn:
        runs = conn.execute("SELECT site, status, counts FROM runs ORDER BY site").fetchall()
    assert [(site, status) for site, status, _ in runs] == [("jx_gov", "failed"), ("sx_gov", "failed")]
    for _, _, counts in runs:
        counts = json.loads(counts)
        assert counts["failed"] == {"unreachable": 1} and counts["retries"] == 1
    status = subprocess.run([sys.executable, "-m", "scheduler", "status", "--db", str(db)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    rows = {line.split()[0]: line.split()[1] for line in status.stdout.splitlines()[2:] if line.strip()}
    assert rows["jx_gov"] == rows["sx_gov"] == "unreachable"


def _middleware():
    crawler = get_crawler(settings_dict={"POLICYWATCH_FIRST_CONTACT_TIMEOUT": 10.0})
    crawler.spider = SimpleNamespace(site=SimpleNamespace(key="x_site"))
    return UnreachableMiddleware.from_crawler(crawler)


def test_a_dns_failure_is_retried_once_then_the_host_is_unreachable(caplog):
    mw = _middleware()
    first = Request("http://portal.example/robots.txt")
    assert mw.process_request(first) is None
    assert first.meta["download_timeout"] == 10.0
    assert mw.process_exception(first, CannotResolveHostError("portal.example")) is None  # retried
    retry = first.replace(meta={**first.meta, "retry_times": 1})
    with pytest.raises(Unreachable, match="portal.example is unreachable: DNS lookup failed"):
        mw.process_exception(retry, CannotResolveHostError("portal.example"))
    with pytest.raises(Unreachable):  # every later request fails at once, without a network try
        mw.process_request(Request("http://portal.example/col/col1/index.html"))
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        "x_site: portal.example is unreachable (DNS lookup failed: portal.example); "
        "its requests fail without further retries"]


def test_a_host_that_answered_keeps_the_usual_timeouts_and_retries():
    mw = _middleware()
    request = Request("http://portal.example/list_2.html", meta={"download_timeout": 30})
    mw.process_response(request, Response(request.url, status=200))
    mw.process_request(request)
    assert request.meta["download_timeout"] == 30
    late = request.replace(meta={**request.meta, "retry_times": 2})
    assert mw.process_exception(late, DownloadTimeoutError("took too long")) is None


def test_the_middleware_runs_before_scrapys_retry():
    order = crawl_settings.DOWNLOADER_MIDDLEWARES
    assert order["crawlers.engine.middlewares.UnreachableMiddleware"] > 550  # RetryMiddleware's place


def test_health_flags_an_unreachable_run_and_not_one_that_also_read_documents():
    message = "www.example.gov.cn is unreachable: connection refused"
    failed = {"status": "failed", "counts": json.dumps({"failed": {"unreachable": 1}, "documents": 0}),
              "errors": json.dumps([{"reason": "unreachable", "message": message}])}
    assert assess("x", [failed]) == (["unreachable"], [message])
    worked = {**failed, "counts": json.dumps({"failed": {"unreachable": 1}, "documents": 3})}
    assert assess("x", [worked]) == ([], [])


def test_a_redirect_off_the_sites_domains_is_refused_even_for_dont_filter_requests():
    from crawlers.engine.middlewares import OffsiteRedirect, OffsiteRedirectMiddleware
    from crawlers.sites import get_site

    crawler = get_crawler()
    crawler.spider = SimpleNamespace(site=get_site("jx_gov"))
    mw = OffsiteRedirectMiddleware.from_crawler(crawler)
    came_from = {"redirect_urls": ["http://www.jiangxi.gov.cn/col/col4975/index.html"]}
    for target in ("http://127.0.0.1:8080/", "http://169.254.169.254/latest/meta-data/", "http://evil.example/"):
        with pytest.raises(OffsiteRedirect, match="off the site's domains"):
            mw.process_request(Request(target, meta=came_from, dont_filter=True))
    assert mw.process_request(Request("http://www.jiangxi.gov.cn/col/col4975/index_2.html", meta=came_from,
                                      dont_filter=True)) is None
    assert mw.process_request(Request("http://127.0.0.1:8080/", dont_filter=True)) is None  # not a redirect


@pytest.mark.timeout(120)
def test_with_production_settings_a_closed_port_costs_one_retry_and_two_lines(tmp_path):
    from benchmarks.faultcases.hostile import crawl_closed_watch

    done = crawl_closed_watch(tmp_path)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    # Ordinary messages (INFO, shown by default) aside, the failure is said in two lines.
    lines = [line for line in done.stderr.strip().splitlines() if " INFO " not in line]
    assert len(lines) == 2, lines  # the host's one warning, and the list page's refusal
    assert "closed_port: 127.0.0.1:" in lines[0] and "is unreachable (connection refused" in lines[0]
    with sqlite3.connect(tmp_path / "watched.db") as conn:
        (counts,) = conn.execute("SELECT counts FROM runs").fetchone()
    assert json.loads(counts)["retries"] == 1  # not RETRY_TIMES (3)
