"""The application object: the config file, the home and the corpus, resolved once by the
``policywatch`` group and handed to every command (``@pass_app``).

The config is read when a command first asks for it, so commands that need none (``parse``,
``classify``, ``--help``) work beside a broken config file; one that needs it gets the file's
one-line error. A command's own ``--config``/``--db`` (``config_option``, ``db_option``) override
the group's, for scripts written before the group had them.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import click

from crawlers.config import Config, ConfigError, config_path, load_config
from crawlers.paths import data_dir


@dataclass(frozen=True)
class App:
    config_path: Path | None  # the config file (None: there is none, defaults apply)
    home: Path  # $POLICYWATCH_HOME
    db_override: Path | None = None  # --db, over the config's [paths] db

    @classmethod
    def resolve(cls, config: str | Path | None = None, db: str | Path | None = None) -> "App":
        """``--config``, else $POLICYWATCH_CONFIG, else $POLICYWATCH_HOME/policywatch.toml if it
        exists; ``--db``, else the config's ``[paths] db``."""
        return cls(config_path(config), data_dir(), Path(db).expanduser() if db else None)

    @cached_property  # frozen: cached_property writes the instance __dict__, not an attribute
    def config(self) -> Config:
        """The validated config (defaults without a file); a one-line click error if it is bad."""
        try:
            return load_config(self.config_path)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None

    @property
    def db(self) -> Path:
        """The corpus every command reads or writes: ``--db``, else the config's ``[paths] db``,
        else ``$POLICYWATCH_HOME/corpus.db``."""
        return self.db_override or self.config.db

    def read_corpus(self):
        """The corpus, read-only (never created, migrated or written); a one-line click error
        for a missing, damaged or foreign file."""
        from pipelines.schema import CorpusError, read_corpus

        try:
            return read_corpus(self.db)
        except CorpusError as exc:
            raise click.ClickException(str(exc)) from None

    def write_corpus(self, create: bool = True):
        """The corpus, for writing: created (with ``create``) or migrated; a one-line click error
        for a damaged, foreign or newer file, never touching it."""
        from pipelines.schema import CorpusError, open_corpus

        try:
            return open_corpus(self.db, create=create)
        except CorpusError as exc:
            raise click.ClickException(str(exc)) from None

    def prepared_db(self, create: bool = True) -> Path:
        """The corpus path, created or migrated and checked now, for a writer that opens it
        itself (a Scrapy crawl, the ingest writer): a bad file is refused before any work.
        Without ``create`` a missing corpus is left for that writer to create."""
        if create or self.db.exists():
            self.write_corpus().close()
        return self.db


_ACTIVE = "policywatch.app"  # ctx.meta is shared by the whole context tree


def current_app(ctx: click.Context) -> App:
    """The context's App (the group's, or one resolved from the environment when a command is
    invoked on its own)."""
    app = ctx.find_object(App)
    if app is None:
        app = ctx.obj = App.resolve()
        ctx.meta[_ACTIVE] = app
    return app


def active_app(ctx: click.Context) -> App | None:
    """The App the running command was given (after its own overrides), if any."""
    return ctx.meta.get(_ACTIVE) or ctx.find_object(App)


def pass_app(fn):
    """Pass the App as the command's first argument."""

    @click.pass_context
    def wrapper(ctx, *args, **kwargs):
        return ctx.invoke(fn, current_app(ctx), *args, **kwargs)

    return functools.update_wrapper(wrapper, fn)


def _override(field: str, convert):
    def callback(ctx: click.Context, param, value):
        if value is not None:
            ctx.obj = ctx.meta[_ACTIVE] = dataclasses.replace(current_app(ctx), **{field: convert(value)})
        return value

    return callback


config_option = click.option(
    "--config", type=click.Path(dir_okay=False), default=None, expose_value=False,
    callback=_override("config_path", config_path),
    help="The TOML config file (default: policywatch --config, else $POLICYWATCH_CONFIG, else "
         "$POLICYWATCH_HOME/policywatch.toml if it exists).")
db_option = click.option(
    "--db", type=click.Path(dir_okay=False), default=None, expose_value=False,
    callback=_override("db_override", lambda v: Path(v).expanduser()),
    help="The corpus file (default: policywatch --db, else the config's [paths] db, else "
         "$POLICYWATCH_HOME/corpus.db).")
