"""`archivist eval` on a four-document BEIR collection whose metrics were worked out by hand."""

from __future__ import annotations

import json

import pytest
from conftest import DATA
from test_cli import run

# keyword ranking: q1 "volcano ash" -> d1 (both words), d3 (ash; the relevant one) => RR 1/2,
# nDCG@10 1/log2(3); q2 "election" -> d4 relevant at 1 => 1, 1, 1; q3 "basketball" -> nothing => 0.
EXPECTED = {"nDCG@10": (1 / 1.5849625 + 1 + 0) / 3, "Recall@100": 2 / 3, "MRR@10": (0.5 + 1 + 0) / 3}


def test_eval_metrics_match_hand_computed_values(tmp_path):
    run_file = tmp_path / "run.trec"
    result = run("eval", str(DATA / "tiny_beir"), "--mode", "keyword", "--json", "--quiet",
                 "--index", str(tmp_path / "index"), "--run-out", str(run_file))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["queries"] == 3
    for name, value in EXPECTED.items():
        assert data[name] == pytest.approx(value, abs=1e-4), name
    lines = [line.split() for line in run_file.read_text().splitlines()]
    assert [line[:4] for line in lines if line[0] == "q1"] == [["q1", "Q0", "d1", "1"], ["q1", "Q0", "d3", "2"]]
    assert all(len(line) == 6 and line[5] == "archivist-keyword" for line in lines)


def test_eval_hybrid_runs_and_reuses_its_index(tmp_path):
    args = ("eval", str(DATA / "tiny_beir"), "--json", "--index", str(tmp_path / "index"))
    first = run(*args)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["nDCG@10"] > 0.5
    again = run(*args)
    assert "0 added" in again.stderr and "4 unchanged" in again.stderr


def test_eval_on_a_folder_that_is_not_a_collection_says_what_is_missing(tmp_path):
    result = run("eval", str(tmp_path), "--quiet")
    assert result.returncode == 2 and "corpus.jsonl is missing" in result.stderr


@pytest.mark.parametrize("file, line", [("qrels/test.tsv", "q5\td1\trelevant\n"),
                                        ("queries.jsonl", '{"text": "no id"}\n')])
def test_malformed_collection_is_one_clear_error(tmp_path, file, line):
    import shutil

    collection = tmp_path / "collection"
    shutil.copytree(DATA / "tiny_beir", collection)
    with open(collection / file, "a", encoding="utf-8") as handle:
        handle.write(line)
    result = run("eval", str(collection), "--quiet", "--mode", "keyword", "--index", str(tmp_path / "index"))
    assert result.returncode == 2 and "line" in result.stderr and "Traceback" not in result.stderr
