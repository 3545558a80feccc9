"""Alembic owns the schema: no drift between models and migrations, and every step goes back."""

import os

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from app.db import make_engine
from tests.conftest import alembic_config, fresh_database, worker_database


def scratch_database(tmp_path) -> str:
    if os.environ.get("TEST_DATABASE_URL"):
        return worker_database(os.environ["TEST_DATABASE_URL"], "migrations")
    return str(tmp_path / "migrations.db")


def test_models_and_migrations_agree(database_url):
    # `alembic check` raises when autogenerate would write a new migration.
    command.check(alembic_config(database_url))


def test_every_migration_downgrades_and_upgrades_again(tmp_path):
    url = fresh_database(scratch_database(tmp_path))
    config = alembic_config(url)
    revisions = list(ScriptDirectory.from_config(config).walk_revisions())
    assert revisions, "no migrations found"
    for revision in revisions:  # newest first
        command.downgrade(config, revision.down_revision or "base")
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    command.upgrade(config, "head")
    engine = make_engine(url)
    assert {"users", "organisations"} <= set(inspect(engine).get_table_names())
    engine.dispose()
