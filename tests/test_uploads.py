"""Adding files to the archive from outside it: safe names, no silent overwrite, zips, metadata."""

from __future__ import annotations

import csv
import json
import io
import subprocess
import sys
import zipfile

from conftest import PROJECT

from archivist.build.uploads import safe_name, save_uploads, set_metadata


def test_names_cannot_escape_the_archive_or_hide(tmp_path):
    archive = tmp_path / "archive"
    result = save_uploads(archive, [("../../etc/x.txt", b"Escape\n\nTried to leave.\n"),
                                    (".hidden.txt", b"Hidden\n\nA dot file.\n"),
                                    ("C:\\Users\\me\\notes.txt", b"Notes\n\nFrom Windows.\n")])
    assert sorted(result.saved) == ["hidden.txt", "notes.txt", "x.txt"]
    assert (archive / "x.txt").is_file() and not (tmp_path / "etc").exists()
    assert safe_name("../..") is None and safe_name("a<b>?.txt") == "a_b_.txt"


def test_a_different_file_of_the_same_name_is_kept_until_the_user_agrees(tmp_path):
    archive = tmp_path / "archive"
    save_uploads(archive, [("a.txt", b"One\n\nFirst text.\n")])
    again = save_uploads(archive, [("a.txt", b"One\n\nFirst text.\n")])
    assert again.unchanged == ["a.txt"] and again.saved == []
    other = save_uploads(archive, [("a.txt", b"Two\n\nSecond text.\n")])
    assert other.conflicts == ["a.txt"] and (archive / "a.txt").read_bytes() == b"One\n\nFirst text.\n"
    agreed = save_uploads(archive, [("a.txt", b"Two\n\nSecond text.\n")], replace={"a.txt"})
    assert agreed.saved == ["a.txt"] and (archive / "a.txt").read_bytes() == b"Two\n\nSecond text.\n"


def test_zips_unpack_safely_and_wrong_types_are_refused_with_reasons(tmp_path):
    archive = tmp_path / "archive"
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as z:
        z.writestr("folder/one.txt", "One\n\nIn a folder.\n")
        z.writestr("../../two.md", "# Two\n\nTried to climb out.\n")
        z.writestr("__MACOSX/folder/._one.txt", "junk")
        z.writestr("tool.exe", "MZ")
    result = save_uploads(archive, [("bundle.zip", bundle.getvalue()), ("broken.zip", b"PK nope"),
                                    ("photo.png", b"\x89PNG")])
    assert sorted(result.saved) == ["folder/one.txt", "two.md"]
    reasons = {r.path: r.reason for r in result.refused}
    assert reasons["bundle.zip: tool.exe"].startswith("unsupported file type .exe")
    assert reasons["broken.zip"] == "not a readable zip file"
    assert reasons["photo.png"].startswith("unsupported file type .png")


def test_metadata_rows_are_set_without_losing_others(tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "metadata.csv").write_text("path,outlet,notes\nold.txt,Old Gazette,keep me\n")
    set_metadata(archive, ["new.pdf"], {"outlet": "Court Records", "date": "2021-09-08", "url": ""})
    set_metadata(archive, ["old.txt"], {"url": "https://old.example/a"})
    rows = {r["path"]: r for r in csv.DictReader(open(archive / "metadata.csv"))}
    assert rows["old.txt"]["outlet"] == "Old Gazette" and rows["old.txt"]["notes"] == "keep me"
    assert rows["old.txt"]["url"] == "https://old.example/a"
    assert (rows["new.pdf"]["outlet"], rows["new.pdf"]["date"], rows["new.pdf"]["url"]) == ("Court Records", "2021-09-08", "")


def test_archivist_add_saves_indexes_and_refuses_to_overwrite_silently(tmp_path):
    source = tmp_path / "incoming"
    source.mkdir()
    (source / "tip.txt").write_text("Harbour tip\n\nThe harbour crane was never inspected.\n")
    command = [sys.executable, "-m", "archivist", "add", "--archive", str(tmp_path / "archive"),
               "--index", str(tmp_path / "index"), "--outlet", "Herald", "--date", "2021-09-08", "--quiet"]
    first = subprocess.run([*command, str(source / "tip.txt")], cwd=PROJECT, capture_output=True, text=True,
                           timeout=300)
    assert first.returncode == 0, first.stderr
    found = subprocess.run([sys.executable, "-m", "archivist", "search", "crane never inspected", "--json",
                            "--index", str(tmp_path / "index")], cwd=PROJECT, capture_output=True, text=True,
                           timeout=300)
    article = json.loads(found.stdout)["results"][0]["article"]
    assert (article["path"], article["outlet"], article["date"]) == ("tip.txt", "Herald", "2021-09-08")
    (source / "tip.txt").write_text("Other\n\nSomething else entirely.\n")
    clash = subprocess.run([*command, str(source / "tip.txt")], cwd=PROJECT, capture_output=True, text=True,
                           timeout=300)
    assert clash.returncode == 1 and "add --replace to overwrite" in clash.stderr
    assert "crane" in (tmp_path / "archive" / "tip.txt").read_text()
    bad_date = subprocess.run([*command[:-5], "--date", "soon", str(source / "tip.txt")], cwd=PROJECT,
                              capture_output=True, text=True, timeout=300)
    assert bad_date.returncode == 2 and "YYYY-MM-DD" in bad_date.stderr
