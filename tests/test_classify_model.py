"""The shipped relevance model, its training and the evaluation that the issue's done-when
figures are read from."""

from __future__ import annotations

import gzip
import json

import pytest

from classifiers import model as model_module
from classifiers.evaluation import TARGETS, evaluate, evaluate_realpages
from classifiers.labelled import LabelledDataError, load, parse_file, split, training_sha256
from crawlers.pageparse import read_document


def _model_json(path):
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def test_the_shipped_model_was_trained_on_the_current_data():
    shipped = model_module.read_model(model_module.MODEL_PATH)
    training, _ = split(load())
    assert shipped.training_sha256 == training_sha256(training), \
        "the labelled data or the feature code changed: run `policywatch train` and commit the model"


def test_policywatch_train_reproduces_the_shipped_model_byte_for_byte(tmp_path):
    from click.testing import CliRunner

    from scheduler import main

    out = tmp_path / "model.json.gz"
    run = CliRunner().invoke(main, ["train", "--out", str(out)])
    assert run.exit_code == 0, run.output
    assert f"({len(split(load())[1])} held back)" in run.output
    shipped, rebuilt = _model_json(model_module.MODEL_PATH), _model_json(out)
    assert rebuilt["training_sha256"] == shipped["training_sha256"]
    assert rebuilt["vocabulary"] == shipped["vocabulary"]
    for got, want in zip(rebuilt["coef"], shipped["coef"]):
        assert got == pytest.approx(want, abs=1e-4)
    assert out.read_bytes() == model_module.MODEL_PATH.read_bytes()
    assert out.stat().st_size < 3 * 1024 * 1024  # small enough to ship


def test_the_held_back_part_is_never_trained_on():
    docs = load()
    training, held_back = split(docs)
    assert held_back and training
    assert {d.id for d in training}.isdisjoint(d.id for d in held_back)
    assert len(held_back) / len(docs) == pytest.approx(0.3, abs=0.1)
    # Every relevance label is in both parts.
    for part in (training, held_back):
        assert {d.expect["relevance"] for d in part} == {"dedicated", "mentions", "related", "none"}
    assert training_sha256(training) != training_sha256(docs)


def test_held_back_scores_meet_the_done_when_figures():
    report = evaluate("held-back", read_page=read_document)
    assert report.relevance_macro_f1 >= TARGETS["relevance_macro_f1"], report.errors
    assert report.accuracy("level") >= TARGETS["level_accuracy"], report.errors
    assert report.accuracy("region") >= TARGETS["region_accuracy"], report.errors
    assert report.documents >= 30


@pytest.mark.realpages
def test_every_real_negative_is_none_and_the_wuhan_plan_is_dedicated(realpages):
    result = evaluate_realpages(realpages, read_document)
    assert result["negatives"] >= 50
    assert result["not_none"] == []
    assert result["positive"]["ok"], result["positive"]
    assert {"industry", "tourism_culture", "education"} <= set(result["positive"]["scenarios"])


def test_without_a_model_the_lexicon_decides(monkeypatch, tmp_path):
    from classifiers.classify import Document, classify

    monkeypatch.setattr(model_module, "MODEL_PATH", tmp_path / "missing.json.gz")
    model_module.shipped_model.cache_clear()
    try:
        result = classify(Document(title="某市元宇宙产业发展行动方案", text="建设元宇宙产业园。"))
        assert result.relevance == "dedicated"
        assert "no relevance model: the lexicon's thresholds decided" in result.notes
    finally:
        model_module.shipped_model.cache_clear()


def test_a_broken_model_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.json.gz"
    bad.write_bytes(b"not gzip")
    with pytest.raises(model_module.ModelError, match="cannot read the relevance model"):
        model_module.read_model(bad)
    wrong = tmp_path / "wrong.json.gz"
    wrong.write_bytes(gzip.compress(b'{"format": "other"}'))
    with pytest.raises(model_module.ModelError, match="format"):
        model_module.read_model(wrong)


def test_labelled_file_mistakes_name_the_file_and_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("=== x\ntitle: t\nexpect: relevance=central\n---\ntext\n", encoding="utf-8")
    with pytest.raises(LabelledDataError, match=r"bad.txt:3: expect: relevance='central'"):
        parse_file(path)
    path.write_text("=== x\ntitle: t\nexpect: relevance=none\ntags: scenario=space\n", encoding="utf-8")
    with pytest.raises(LabelledDataError, match=r"bad.txt:4: tags: scenario:space is not in TAXONOMY.md"):
        parse_file(path)
    path.write_text("stray line\n", encoding="utf-8")
    with pytest.raises(LabelledDataError, match="bad.txt:1: text outside a record"):
        parse_file(path)
