"""Backups: `flask backup` and `flask restore` put back the database and the uploads as they were.

They run on the suite's database: SQLite by default, PostgreSQL (pg_dump/pg_restore) when
DATABASE_URL says so, as in CI's second run.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import select

from directory.extensions import db
from directory.models import Practitioner
from tests.factories import PractitionerFactory


def _names() -> list[str]:
    db.session.remove()  # read what the database holds now, not what this session remembers
    return sorted(db.session.scalars(select(Practitioner.display_name)))


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def uploads(app) -> Path:
    """The uploads folder with an evidence file in a sub-folder and a photo."""
    folder = Path(app.config["UPLOAD_FOLDER"])
    (folder / "evidence").mkdir(parents=True, exist_ok=True)
    (folder / "evidence" / "licence.pdf").write_bytes(b"%PDF-1.4 licence")
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff jpeg")
    return folder


@pytest.mark.parametrize("name", ["backup.tar.gz", "backup-folder"])
def test_restore_puts_back_the_database_and_uploads_as_they_were_backed_up(app, runner, uploads, tmp_path, name):
    """Back up, change data and files, restore: everything is as at the backup."""
    PractitionerFactory(display_name="Ada Before")
    PractitionerFactory(display_name="Bo Before")
    db.session.commit()
    before_files = _files(uploads)
    dest = tmp_path / "backups" / name

    result = runner.invoke(args=["backup", str(dest)])
    assert result.exit_code == 0, result.output
    assert "Backed up the" in result.output and "2 upload file(s)" in result.output

    db.session.delete(db.session.scalars(select(Practitioner).filter_by(display_name="Ada Before")).one())
    PractitionerFactory(display_name="Cy After")
    db.session.commit()
    (uploads / "photo.jpg").write_bytes(b"changed")
    (uploads / "evidence" / "new.pdf").write_bytes(b"added after the backup")
    assert _names() == ["Bo Before", "Cy After"]

    result = runner.invoke(args=["restore", str(dest), "--yes"])
    assert result.exit_code == 0, result.output
    assert "Restored the" in result.output
    assert _names() == ["Ada Before", "Bo Before"]
    assert _files(uploads) == before_files
    # The restored database takes new rows as before (PostgreSQL's sequences came back too).
    PractitionerFactory(display_name="Di New")
    db.session.commit()
    assert _names() == ["Ada Before", "Bo Before", "Di New"]


def test_restore_refuses_to_overwrite_without_yes(app, runner, uploads, tmp_path):
    """Without --yes nothing is replaced, and the message says what would be."""
    dest = tmp_path / "b.tar.gz"
    assert runner.invoke(args=["backup", str(dest)]).exit_code == 0
    PractitionerFactory(display_name="Kept")
    db.session.commit()
    result = runner.invoke(args=["restore", str(dest)])
    assert result.exit_code != 0
    assert "replaces the whole database and the uploads folder" in result.output
    assert "--yes" in result.output
    assert _names() == ["Kept"]


def test_backup_never_overwrites_an_earlier_backup(app, runner, uploads, tmp_path):
    """A backup goes to a new file or an empty folder; an existing one is kept and named."""
    dest = tmp_path / "b.tar.gz"
    assert runner.invoke(args=["backup", str(dest)]).exit_code == 0
    first = dest.read_bytes()
    result = runner.invoke(args=["backup", str(dest)])
    assert result.exit_code != 0 and "already exists" in result.output
    assert dest.read_bytes() == first


def test_restore_refuses_what_is_not_a_backup(app, runner, tmp_path):
    """A folder without a manifest, a missing path or a corrupt archive: a clear refusal, nothing changed."""
    PractitionerFactory(display_name="Kept")
    db.session.commit()
    (tmp_path / "random").mkdir()
    (tmp_path / "broken.tar.gz").write_bytes(b"not gzip at all")
    for src, message in [
        (tmp_path / "random", "is not a backup made by `flask backup`"),
        (tmp_path / "missing.tar.gz", "does not exist"),
        (tmp_path / "broken.tar.gz", "is not a readable backup archive"),
    ]:
        result = runner.invoke(args=["restore", str(src), "--yes"])
        assert result.exit_code != 0
        assert message in result.output
        assert "Traceback" not in result.output
    assert _names() == ["Kept"]


def test_restore_refuses_an_archive_that_writes_outside_its_folder(app, runner, tmp_path):
    """A crafted archive with "../" paths is refused before anything is replaced."""
    PractitionerFactory(display_name="Kept")
    db.session.commit()
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as archive:
        manifest = json.dumps({"dialect": db.engine.url.get_backend_name()}).encode()
        for name, data in [("manifest.json", manifest), ("../escaped.txt", b"x")]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    result = runner.invoke(args=["restore", str(evil), "--yes"])
    assert result.exit_code != 0 and "is not a readable backup archive" in result.output
    assert not (tmp_path.parent / "escaped.txt").exists()
    assert _names() == ["Kept"]


def test_restore_refuses_a_backup_of_the_other_database_kind(app, runner, tmp_path):
    """A SQLite backup cannot go into PostgreSQL, nor the reverse."""
    other = "postgresql" if db.engine.url.get_backend_name() == "sqlite" else "sqlite"
    folder = tmp_path / "other"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"dialect": other}))
    result = runner.invoke(args=["restore", str(folder), "--yes"])
    assert result.exit_code != 0
    assert f"holds a {other} database" in result.output
