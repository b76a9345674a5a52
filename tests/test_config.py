"""The TOML configuration: defaults without a file, clear errors naming the key."""

from __future__ import annotations

import pytest

from crawlers.config import ConfigError
from scheduler import load_app_config as load_config


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYWATCH_HOME", str(tmp_path))
    monkeypatch.delenv("POLICYWATCH_CONFIG", raising=False)
    config = load_config()
    assert config.db == tmp_path / "corpus.db"
    assert config.schedule.timezone == "Asia/Shanghai"
    assert config.schedule.hour_minute == (7, 0)
    assert config.schedule.sweep_days == 7
    assert config.source is None and config.channels.email is None


def test_a_full_file(tmp_path, monkeypatch):
    path = tmp_path / "pw.toml"
    path.write_text("""
[paths]
db = "/srv/pw/corpus.db"
[schedule]
time = "06:30"
max_parallel = 3
[sites]
disabled = ["cn_gov"]
contact = "ops@example.org"
[channels.email]
host = "127.0.0.1"
port = 2525
starttls = false
sender = "pw@example.org"
recipients = ["a@example.org"]
password_env = "PW_SMTP"
""", encoding="utf-8")
    monkeypatch.setenv("PW_SMTP", "s3cret")
    config = load_config(path)
    assert str(config.db) == "/srv/pw/corpus.db"
    assert config.schedule.hour_minute == (6, 30) and config.schedule.max_parallel == 3
    assert config.disabled_sites == ("cn_gov",)
    assert config.channels.email.port == 2525 and config.channels.email.password == "s3cret"
    assert "s3cret" not in repr(config)


@pytest.mark.parametrize(("text", "message"), [
    ("[schedule]\ntime = '25:00'", '[schedule] time: expected a time HH:MM (00:00 to 23:59), got "25:00"'),
    ("[schedule]\ntimezone = 'Mars/Olympus'", '[schedule] timezone: "Mars/Olympus" is not a known time zone'),
    ("[schedule]\nsweep_days = -1", "[schedule] sweep_days: expected a whole number 0 or more, got -1"),
    ("[schedule]\nsweep_days = 'weekly'", '[schedule] sweep_days: expected a whole number 0 or more, got "weekly"'),
    ("[schedule]\ncolour = 'red'", "[schedule] colour: unknown key; known: time, timezone"),
    ("[channels.email]\nhost = 'x'\nsender='a'\nrecipients=['b']\npassword='p'", "password_env"),
    ("[channels.email]\nhost = 'x'", "[channels.email] sender: missing (needs host, sender, recipients)"),
    ("[sites]\nenabled = 'jx_gov'", '[sites] enabled: expected a list of strings, got "jx_gov"'),
    ("this is not toml", "not valid TOML"),
])
def test_errors_name_the_file_and_key(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert message in str(err.value) and str(path) in str(err.value)


def test_a_missing_explicit_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.toml")


def test_the_scrapy_table_holds_scrapy_settings_and_refuses_typos_and_reserved_names(tmp_path):
    from crawlers.config import ConfigError

    path = tmp_path / "policywatch.toml"
    path.write_text('[scrapy]\nDOWNLOAD_DELAY = 3.5\nAUTOTHROTTLE_MAX_DELAY = 90\n'
                    'POLICYWATCH_REVISIT_BUDGET = 5\n', encoding="utf-8")
    assert load_config(path).scrapy == {"DOWNLOAD_DELAY": 3.5, "AUTOTHROTTLE_MAX_DELAY": 90,
                                        "POLICYWATCH_REVISIT_BUDGET": 5}
    path.write_text("[scrapy]\nDOWNLOAD_DELAYS = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[scrapy\] DOWNLOAD_DELAYS: not a Scrapy or policywatch "
                                          r"setting.*DOWNLOAD_DELAY"):
        load_config(path)
    path.write_text('[scrapy]\nPOLICYWATCH_DB = "/elsewhere.db"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[scrapy\] POLICYWATCH_DB: set by policywatch"):
        load_config(path)
    path.write_text('scrapy = 5\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[scrapy\]: expected a table"):
        load_config(path)
