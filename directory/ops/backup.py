"""Backups: the database and the uploads folder together, in a folder or one .tar.gz file.

A backup holds `manifest.json` (when, which database kind, which migration), the database
(`database.sqlite3`, copied with SQLite's online backup API while the site runs, or
`database.pgdump`, `pg_dump --format=custom`) and `uploads/` (credential evidence, photos).
A restore puts back both; stop the web processes and the sender first.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from flask import current_app
from sqlalchemy.engine import URL

from directory.extensions import db
from directory.models.base import utcnow

MANIFEST = "manifest.json"
UPLOADS = "uploads"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")


class BackupError(Exception):
    """A backup or restore that cannot be done, with the reason in words."""


@dataclass
class BackupSummary:
    """What a backup or restore copied."""

    path: Path
    dialect: str
    revision: str
    upload_files: int

    def describe(self, verb: str) -> str:
        """One line for the operator."""
        return (
            f"{verb} the {self.dialect} database (migration {self.revision or 'none'}) "
            f"and {self.upload_files} upload file(s): {self.path}"
        )


def is_archive(path: Path) -> bool:
    """A .tar.gz (or .tgz) path, rather than a folder."""
    return path.name.endswith(ARCHIVE_SUFFIXES)


def backup(dest: Path) -> BackupSummary:
    """Write a backup of the database and the uploads to `dest`: a new folder or a .tar.gz file."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} already exists; name a new file or an empty folder")
    url, dialect = _database()
    with tempfile.TemporaryDirectory(prefix="cst-backup-") as work:
        folder = Path(work) / "backup" if is_archive(dest) else dest
        folder.mkdir(parents=True, exist_ok=True)
        database_file = folder / DATABASE_FILES[dialect]
        if dialect == "sqlite":
            _sqlite_copy(_sqlite_path(url), database_file)
        else:
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={database_file}"], url)
        revision = _revision()
        files = _copy_tree(Path(current_app.config["UPLOAD_FOLDER"]), folder / UPLOADS)
        manifest = {"created_at": utcnow().isoformat(), "dialect": dialect, "revision": revision, "upload_files": files}
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        if is_archive(dest):
            dest.parent.mkdir(parents=True, exist_ok=True)
            partial = dest.with_name(dest.name + ".partial")
            with tarfile.open(partial, "w:gz") as archive:
                for item in sorted(folder.iterdir()):
                    archive.add(item, arcname=item.name)
            os.replace(partial, dest)  # never a half-written archive under the real name
    return BackupSummary(dest, dialect, revision, files)


def restore(src: Path) -> BackupSummary:
    """Replace the database and the uploads with those of the backup at `src` (a folder or a .tar.gz)."""
    if not src.exists():
        raise BackupError(f"{src} does not exist")
    url, dialect = _database()
    with tempfile.TemporaryDirectory(prefix="cst-restore-") as work:
        folder = src
        if is_archive(src):
            folder = Path(work)
            try:
                with tarfile.open(src, "r:gz") as archive:
                    archive.extractall(folder, filter="data")  # no absolute paths, links out or devices
            except (tarfile.TarError, OSError) as error:
                raise BackupError(f"{src} is not a readable backup archive: {error}") from None
        manifest = _read_manifest(folder)
        if manifest.get("dialect") != dialect:
            raise BackupError(
                f"{src} holds a {manifest.get('dialect')} database, but DATABASE_URL is {dialect}; "
                "restore it into a database of the same kind"
            )
        database_file = folder / DATABASE_FILES[dialect]
        if not database_file.is_file():
            raise BackupError(f"{src} has no {database_file.name}")
        # Nothing of ours may hold a connection (or a lock) on the tables being replaced.
        db.session.remove()
        db.engine.dispose()
        if dialect == "sqlite":
            _sqlite_copy(database_file, _sqlite_path(url))
        else:
            _run(
                [
                    "pg_restore",
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--no-privileges",
                    "--single-transaction",
                    str(database_file),
                ],
                url,
                database_flag="--dbname",
            )
        files = _replace_tree(folder / UPLOADS, Path(current_app.config["UPLOAD_FOLDER"]))
    return BackupSummary(src, dialect, manifest.get("revision", ""), files)


def _database() -> tuple[URL, str]:
    """The app's database URL and its kind ("sqlite" or "postgresql")."""
    url = db.engine.url
    dialect = url.get_backend_name()
    if dialect not in DATABASE_FILES:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {dialect}")
    return url, dialect


def _sqlite_path(url: URL) -> Path:
    """The file of a SQLite database (an in-memory one cannot be backed up)."""
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(url.database)


def _sqlite_copy(source: Path, target: Path) -> None:
    """Copy a whole SQLite database page by page (SQLite's online backup API: consistent while in use)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
    except sqlite3.DatabaseError as error:
        raise BackupError(f"could not copy the SQLite database {source}: {error}") from None
    finally:
        src.close()
        dst.close()


def _run(command: list[str], url: URL, database_flag: str = "--dbname") -> None:
    """Run pg_dump or pg_restore on the app's database (the password through the environment, not argv)."""
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (Debian: apt-get install postgresql-client)")
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    conninfo = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    result = subprocess.run([*command, f"{database_flag}={conninfo}"], env=env, capture_output=True, text=True)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[:2000]}")


def _revision() -> str:
    """The database's migration revision(s), as Alembic records them."""
    with db.engine.connect() as conn:
        return ",".join(sorted(MigrationContext.configure(conn).get_current_heads()))


def _read_manifest(folder: Path) -> dict:
    """The backup's manifest.json, or why it is not a backup."""
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise BackupError(f"{folder} is not a backup made by `flask backup` (no readable {MANIFEST})") from None


def _copy_tree(source: Path, target: Path) -> int:
    """Copy a folder's files (an absent folder is an empty one); returns how many files."""
    target.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True, symlinks=False)
    return sum(1 for item in target.rglob("*") if item.is_file())


def _replace_tree(source: Path, target: Path) -> int:
    """Make `target` hold exactly what `source` holds (emptied in place: it may be a mount point)."""
    target.mkdir(parents=True, exist_ok=True)
    for item in target.iterdir():
        if item.is_dir() and not item.is_symlink():
            shutil.rmtree(item)
        else:
            item.unlink()
    return _copy_tree(source, target)
