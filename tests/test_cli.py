"""The command line as scripts use it: JSON contract, batch mode, exit codes and messages."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import PROJECT


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "archivist", *args], cwd=PROJECT, input=stdin,
                          capture_output=True, text=True, timeout=300)


def test_search_json_follows_the_contract(seed_index):
    result = run("search", "who supported the Northern Alliance", "--json", "-k", "3", "--index", str(seed_index))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["query"] == "who supported the Northern Alliance"
    assert isinstance(data["took_ms"], float)
    assert len(data["results"]) == 3
    first = data["results"][0]
    # issue 15 added "relevance" (calibrated, 0-1) to each result and "no_strong_match" to the object
    assert set(first) == {"rank", "score", "passage", "start", "end", "article", "also_in", "relevance"}
    assert data["no_strong_match"] is False and 0.5 <= first["relevance"] <= 1
    assert set(first["article"]) == {"id", "path", "title", "outlet", "date", "url"}
    assert first["rank"] == 1 and "regional countries including Russia" in first["passage"]


def test_batch_answers_one_json_line_per_query(seed_index):
    result = run("search", "--batch", "-", "--index", str(seed_index), "-k", "2",
                 stdin="who supported the Northern Alliance\n\nthousands of forces ready\n")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["query"] for line in lines] == ["who supported the Northern Alliance", "thousands of forces ready"]


def test_human_output_and_stats(seed_index):
    result = run("search", "thousands of forces ready", "-k", "1", "--index", str(seed_index), "--mode", "keyword")
    assert result.returncode == 0
    assert "1. Meet The Anti-Taliban Fighters" in result.stdout and "003_cfd7c385d743e645.txt" in result.stdout
    stats = run("stats", "--json", "--index", str(seed_index))
    assert json.loads(stats.stdout)["articles"] == 5


def test_errors_are_one_clear_line_with_the_right_exit_code(seed_index, tmp_path):
    empty = run("search", "   ", "--index", str(seed_index))
    assert empty.returncode == 2 and empty.stderr.strip().count("\n") == 0 and "query is empty" in empty.stderr
    bad_date = run("search", "x", "--since", "last tuesday-ish", "--index", str(seed_index))
    assert bad_date.returncode == 2 and "YYYY-MM-DD" in bad_date.stderr
    outlet = run("search", "x", "--outlet", "Pravda", "--index", str(seed_index), "--mode", "keyword")
    assert outlet.returncode == 2 and "Unknown outlet 'Pravda'" in outlet.stderr and "Newsweek" in outlet.stderr
    missing = run("search", "x", "--index", str(tmp_path / "none"))
    assert missing.returncode == 1 and "python -m archivist reindex" in missing.stderr
    assert "Traceback" not in missing.stderr + empty.stderr + bad_date.stderr + outlet.stderr


def test_reindex_json_report(tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "a.txt").write_text("A Headline\n\nSome text about a river.\n")
    (archive / "bad.json").write_text("{nope")
    result = run("reindex", "--json", "--archive", str(archive), "--index", str(tmp_path / "index"))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {"articles", "added", "updated", "removed", "unchanged", "passages", "passages_embedded",
            "seconds", "skipped"} <= set(report)
    assert report["articles"] == 1 and report["skipped"][0]["path"] == "bad.json"


def test_a_question_the_archive_cannot_answer_is_said_to_be_weak(seed_index):
    data = json.loads(run("search", "price of cocoa in Brazil", "--json", "--index", str(seed_index)).stdout)
    assert data["no_strong_match"] is True and data["results"]
    assert all(r["relevance"] < 0.5 for r in data["results"])
    text = run("search", "price of cocoa in Brazil", "-k", "2", "--index", str(seed_index)).stdout
    assert text.startswith("No strong match in the archive; the closest passages are:") and "weak" in text


def test_a_one_shot_search_flushes_everything_before_it_exits(seed_index):
    """`search` ends without interpreter teardown (archivist/__main__.py): all it printed must arrive."""
    result = run("search", "Panjshir", "--json", "-k", "50", "--index", str(seed_index))
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["results"]) > 10
    reader = subprocess.Popen([sys.executable, "-m", "archivist", "search", "Panjshir", "-k", "50",
                               "--index", str(seed_index)], cwd=PROJECT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    assert reader.stdout.read(1)  # a reader that stops after one character (as `| head -c1` does)
    reader.stdout.close()
    assert "Traceback" not in reader.stderr.read() and reader.wait(timeout=120) == 0
