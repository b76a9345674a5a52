"""`policywatch classify` and `policywatch eval`: JSON out, clear errors for bad input."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from scheduler import main

FIELDS = ("relevance", "score", "scenarios", "measures", "techs", "level", "region", "province",
          "city", "city_tier", "doc_type", "status", "evidence")


def _run(args, input=None):
    return CliRunner().invoke(main, args, input=input)


def test_classify_a_file(tmp_path):
    path = tmp_path / "doc.json"
    path.write_text(json.dumps({
        "title": "武汉市人民政府关于印发武汉市促进元宇宙产业创新发展实施方案（2022—2025年）的通知",
        "issuer": "武汉市人民政府", "published_date": "2022-10-26",
        "text": "为加快促进我市元宇宙产业创新发展，制定本方案。打造旅游元宇宙，在景区推出数字人讲解。",
    }, ensure_ascii=False), encoding="utf-8")
    result = _run(["classify", str(path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert all(name in data for name in FIELDS)
    assert (data["relevance"], data["level"], data["region"], data["province"], data["city"],
            data["city_tier"], data["doc_type"]) == (
        "dedicated", "prefecture", "华中", "湖北省", "武汉市", "新一线", "implementation_plan")
    assert "tourism_culture" in data["scenarios"] and "digital_human" in data["techs"]
    assert "景区" in data["evidence"]["scenario:tourism_culture"]


def test_classify_stdin_with_a_site_key():
    doc = {"title": "关于征集虚拟现实应用场景的通知", "issuer": "高技术处", "site": "gs_fzgg",
           "text": "为推动虚拟现实产业发展，现征集虚拟现实在教育、文旅中的应用场景。"}
    result = _run(["classify", "-"], input=json.dumps(doc, ensure_ascii=False))
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["relevance"], data["level"], data["province"], data["region"]) == (
        "related", "province", "甘肃省", "西北")


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"{not json", "is not JSON"),
    (b"[1, 2]", "expected a JSON object, got a list"),
    (b'{"title": "t", "body": "x"}', "unknown field(s) body"),
    (b'{"title": 5}', "title must be a string"),
    (b'{"title": "t", "site": "no_such_site"}', "unknown site 'no_such_site'"),
    (b'{"title": "", "text": "  "}', "nothing to classify"),
    (b"\xff\xfe\x00bad", "is not UTF-8"),
])
def test_classify_bad_input_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "doc.json"
    path.write_bytes(content)
    result = _run(["classify", str(path)])
    assert result.exit_code != 0
    assert message in result.output


def test_classify_a_missing_file():
    result = _run(["classify", "/nonexistent/doc.json"])
    assert result.exit_code != 0 and "cannot read /nonexistent/doc.json" in result.output


def test_eval_prints_scores_and_json():
    text = _run(["eval", "--no-realpages"])
    assert text.exit_code == 0, text.output
    assert "macro F1" in text.output and "confusion" in text.output and "level" in text.output
    checked = _run(["eval", "--no-realpages", "--json", "--check"])
    assert checked.exit_code == 0, checked.output
    data = json.loads(checked.output)
    assert data["part"] == "held-back" and data["targets_missed"] == []
    assert set(data["relevance"]) == {"dedicated", "mentions", "related", "none"}
    assert data["accuracy"]["level"] >= 0.98 and data["accuracy"]["region"] >= 0.98


def test_eval_check_fails_when_a_target_is_missed(monkeypatch):
    from classifiers import evaluation

    monkeypatch.setitem(evaluation.TARGETS, "relevance_macro_f1", 1.01)  # unreachable
    missed = _run(["eval", "--no-realpages", "--check"])
    assert missed.exit_code == 1
    assert "MISSED: relevance macro F1" in missed.output
    assert _run(["eval", "--no-realpages"]).exit_code == 0  # without --check it only reports


def test_eval_names_a_missing_realpages_folder(tmp_path):
    result = _run(["eval", "--realpages", str(tmp_path / "absent")])
    assert result.exit_code != 0 and "no real pages at" in result.output
