"""`policywatch classify`, `eval` and `train`: the classifier's commands.

They import nothing of the rest of the project: what they need of it (a site's jurisdiction, the
reader of saved pages) comes on the application object the front door passes (``click.pass_obj``)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from classifiers.classify import ClassifyError, Document, classify
from classifiers.evaluation import evaluate, format_report, realpages_path
from classifiers.labelled import LabelledDataError
from classifiers.model import MODEL_PATH
from classifiers.training import train

_INPUT_FIELDS = {"title": str, "issuer": str, "text": str, "published_date": str, "site": str,
                 "division_code": str, "level": str, "validity": str, "attachments": list}


def _read_input(source: str) -> dict:
    """The JSON object of FILE or stdin, checked field by field."""
    name = "stdin" if source == "-" else source
    try:
        if source == "-":
            with click.open_file("-", "rb") as stdin:
                raw = stdin.read()
        else:
            raw = Path(source).read_bytes()
    except OSError as exc:
        raise click.ClickException(f"cannot read {name}: {exc.strerror or exc}") from None
    if not raw.strip():
        raise click.ClickException(f"{name} is empty: expected a JSON object with title, issuer and text")
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise click.ClickException(f"{name} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"{name} is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise click.ClickException(f"{name}: expected a JSON object, got a {type(data).__name__}")
    unknown = sorted(set(data) - set(_INPUT_FIELDS))
    if unknown:
        raise click.ClickException(f"{name}: unknown field(s) {', '.join(unknown)}; "
                                   f"known: {', '.join(_INPUT_FIELDS)}")
    for key, kind in _INPUT_FIELDS.items():
        if data.get(key) is not None and not isinstance(data[key], kind):
            raise click.ClickException(f"{name}: {key} must be a {'list' if kind is list else 'string'}")
    for n, attachment in enumerate(data.get("attachments") or []):
        if not isinstance(attachment, (str, dict)) or (
                isinstance(attachment, dict) and not isinstance(attachment.get("text", ""), str)):
            raise click.ClickException(f"{name}: attachments[{n}] must be a string or an object with text")
    return data


def _document(data: dict, find_site):
    division, level = data.get("division_code"), data.get("level")
    if data.get("site"):
        try:
            site = find_site(data["site"])
        except KeyError:
            raise click.ClickException(f"unknown site {data['site']!r}: see `policywatch sites`") from None
        division, level = division or site.division_code, level or site.level
    attachments = tuple(a if isinstance(a, str) else a.get("text", "") for a in data.get("attachments") or [])
    return Document(title=data.get("title") or "", text=data.get("text") or "",
                    issuer=data.get("issuer"), attachments=attachments,
                    published_date=data.get("published_date"), site=data.get("site"),
                    site_division=division, site_level=level, validity=data.get("validity"))


@click.command("classify")
@click.argument("source", metavar="FILE|-")
@click.option("--no-model", is_flag=True, help="Decide relevance with the lexicon's thresholds only.")
@click.pass_obj
def classify_command(app, source: str, no_model: bool) -> None:
    """Classify one document and print its tags as JSON.

    FILE (or - for stdin) is a JSON object: title, issuer, text, and optionally published_date,
    site (a site key: its jurisdiction resolves department-only issuers), division_code and level
    (the same, given directly), validity and attachments (texts).
    """
    document = _document(_read_input(source), app.find_site)
    try:
        result = classify(document, use_model=not no_model)
    except ClassifyError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))


@click.command("eval")
@click.option("--part", type=click.Choice(["held-back", "training", "all"]), default="held-back",
              show_default=True, help="Which part of the labelled set to score.")
@click.option("--realpages", "realpages_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Real pages to check (default: $POLICYWATCH_REALPAGES, else ../shared/realpages).")
@click.option("--no-realpages", is_flag=True, help="Score the labelled set only.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--check", is_flag=True, help="Exit with status 1 if a done-when figure is missed.")
@click.pass_obj
def eval_command(app, part: str, realpages_dir: Path | None, no_realpages: bool, as_json: bool,
                 check: bool) -> None:
    """Score the classifier on the labelled set (precision, recall, F1 per label, relevance
    confusion, issuer accuracy) and on the real pages (negatives must come out none)."""
    realpages = None if no_realpages else realpages_path(realpages_dir)
    if realpages_dir is not None and not realpages_dir.is_dir():
        raise click.ClickException(f"no real pages at {realpages_dir}")
    try:
        report = evaluate(part, realpages, read_page=app.read_page)
    except LabelledDataError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2) if as_json else format_report(report))
    if check and report.missed_targets():
        raise SystemExit(1)


@click.command("train")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the model (default: the shipped classifiers/data/relevance_model.json.gz).")
@click.pass_obj
def train_command(app, out: Path | None) -> None:
    """Train the relevance model from the project's labelled data (its held-back part is never
    read) and write it; the same data always gives the same file."""
    try:
        result = train(out=out or MODEL_PATH, read_page=app.read_page)
    except (LabelledDataError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"trained on {result.documents} documents ({result.held_back} held back); "
               f"{result.vocabulary} n-grams; training accuracy {result.training_accuracy:.3f}")
    click.echo(f"wrote {result.path} ({result.size_bytes} bytes, data sha256 {result.training_sha256[:12]})")


# The commands the front door (scheduler.py) adds to the `policywatch` group.
COMMANDS = (classify_command, eval_command, train_command)
