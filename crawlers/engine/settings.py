"""Scrapy settings: every default of a policywatch crawl, in one place.

``crawlers.engine.runner`` starts from these and adds what a run needs (the corpus path, the replay
portal); each spider adds its site's download slots and handler (``crawlers.engine.sitesettings``).
``scrapy crawl policy -a site=KEY`` starts from them too (``scrapy.cfg``). Nothing here reads
the environment.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    _VERSION = version("policywatch")
except PackageNotFoundError:  # running from a checkout without installing
    _VERSION = "0.0"

BOT_NAME = "policywatch"
SPIDER_MODULES = ["crawlers.engine.spiders"]
NEWSPIDER_MODULE = "crawlers.engine.spiders"

# --- identity and politeness -------------------------------------------------------------
# An identifying User-Agent: a portal's webmaster can see who crawls and why. The runner appends
# the operator's contact (config `contact`) when one is set.
USER_AGENT = f"policywatch/{_VERSION} (government policy research crawler; low-rate, obeys robots.txt)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 1
# Items of one response processed at once. A detail page gives one item, a list page none, yet
# Scrapy starts this many asyncio tasks for every response's output (100 by default: most of
# the crawl process's own CPU in a fast backfill went to creating and waking them).
CONCURRENT_ITEMS = 8
DOWNLOAD_DELAY = 2.0
DOWNLOAD_DELAY_JITTER = 0.5  # ±50% around the delay, so requests do not tick like a clock
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
# Government portals serve big scanned PDFs; pages are small. Attachments get their own limit.
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
COOKIES_ENABLED = True  # some CMSs set a session cookie the next page expects
TELNETCONSOLE_ENABLED = False

# --- retries, with backoff ----------------------------------------------------------------
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
POLICYWATCH_BACKOFF_MAX_DELAY = 120.0
# A host that has not answered yet (robots.txt is its first request) gets this timeout and one
# retry; failing both, it is unreachable and its crawl ends (crawlers.engine.middlewares.UnreachableMiddleware).
POLICYWATCH_FIRST_CONTACT_TIMEOUT = 10.0
DNS_TIMEOUT = 10

# Every page through the handler that can re-address it to the replay portal (a no-op on real
# crawls); a site that needs the browser gets the Playwright one (crawlers.engine.sitesettings).
DOWNLOAD_HANDLERS = {
    "http": "crawlers.engine.downloader.ReplayAwareDownloadHandler",
    "https": "crawlers.engine.downloader.ReplayAwareDownloadHandler",
}

# --- components ---------------------------------------------------------------------------
DOWNLOADER_MIDDLEWARES = {
    # robots.txt for every request, also those queued while it is fetched (crawlers/engine/robots.py).
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawlers.engine.robots.SharedRobotsTxtMiddleware": 100,
    "crawlers.engine.middlewares.BackoffMiddleware": 560,
    # After the backoff, before Scrapy's RetryMiddleware (550), which it keeps to one retry.
    "crawlers.engine.middlewares.UnreachableMiddleware": 555,
    "crawlers.engine.middlewares.OffsiteRedirectMiddleware": 45,  # before anything is fetched for it
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawlers.engine.middlewares.QuickMetaRefreshMiddleware": 580,
    # Retries and download exceptions counted for the request's site (crawlers/engine/sitestats.py).
    "crawlers.engine.sitestats.SiteStatsMiddleware": 849,
}
ITEM_PIPELINES = {
    "pipelines.normalise.NormalisePipeline": 100,
    "pipelines.attachments.AttachmentsPipeline": 200,
    "pipelines.pooledclassify.PooledClassifyPipeline": 300,  # ClassifyPipeline, in the pool
    "pipelines.store.StorePipeline": 900,
    "pipelines.revisits.RevisitPipeline": 950,
}
EXTENSIONS = {
    # The parse pool, which the item pipelines reach as crawler.policywatch_offload.
    "crawlers.engine.parsepool.ParsePool": 0,
    "crawlers.engine.progress.Progress": 600,
}
# An item not stored because the corpus cannot be written is said once, not with a traceback.
LOG_FORMATTER = "pipelines.unwritable.QuietLogFormatter"
# Pages, documents, rate and ETA per site (crawlers/engine/progress.py): a line redrawn on a
# terminal, else logged at INFO every POLICYWATCH_PROGRESS_INTERVAL seconds.
POLICYWATCH_PROGRESS = True
POLICYWATCH_PROGRESS_INTERVAL = 30.0
POLICYWATCH_PROGRESS_SITES = 0  # sites the process crawls (set by the runner), for "3/40 sites done"
# --- limits on what the network hands us --------------------------------------------------
POLICYWATCH_ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024  # the largest file downloaded
# What a downloaded attachment may unpack to before it is read (crawlers/parsing/filetext.py's
# FileLimits); a file over one is stored without text, with the reason.
POLICYWATCH_ATTACHMENT_MAX_UNPACKED = 64 * 1024 * 1024  # a DOCX's zip members, added up
POLICYWATCH_ATTACHMENT_MAX_MEMBERS = 2000  # entries in a DOCX's zip
POLICYWATCH_ATTACHMENT_MAX_PAGES = 2000  # pages of a PDF
POLICYWATCH_ATTACHMENT_MAX_CHARS = 2_000_000  # characters of extracted text
# Worker processes that parse pages, read attachments and classify (crawlers/engine/parsepool.py):
# None = one per core; 0 = in the crawl process itself (without the two limits below).
POLICYWATCH_PARSE_WORKERS = None
POLICYWATCH_JOB_TIME_LIMIT = 60.0  # seconds a pool job may take before its worker is killed
POLICYWATCH_WORKER_MEMORY_MB = 2048  # each worker's address space (RLIMIT_AS); 0 = no limit
# Sites of one crawl process crawling at once (crawlers/engine/spiders/policy.py): the next
# starts when one ends. An active site holds its state (known URLs, counters, sightings) and a
# few queued pages; a distributed worker's holds a whole crawler each (crawlers/engine/distributed.py).
POLICYWATCH_ACTIVE_SITES = 1000
POLICYWATCH_WORKER_ACTIVE_SITES = 100  # a distributed worker's: a crawler each, ~2 MB
# A distributed worker's hold on a site (crawlers/engine/distributed.py): seconds its lease lives
# unless refreshed (every third of it); a dead worker's sites go to another after this long.
POLICYWATCH_LEASE_TTL = 30
# What the corpus tells a site's crawl when it starts (known URLs, due revisits, a backfill's
# pending pages): the engine reaches the corpus only through this dotted name.
POLICYWATCH_CRAWL_STATE = "pipelines.revisits.crawl_state_for"
# Known documents an incremental run re-checks per site (oldest due first).
POLICYWATCH_REVISIT_BUDGET = 30

# --- browser, for the lists only JavaScript renders (enabled per run by the runner) -----------
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_LAUNCH_OPTIONS = {
    "executable_path": "/usr/bin/chromium",
    "headless": True,
    "args": [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ],
}
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 30_000
PLAYWRIGHT_MAX_CONTEXTS = 2

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
