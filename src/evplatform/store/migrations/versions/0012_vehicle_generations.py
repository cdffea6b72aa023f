"""per-vehicle generation numbers: ``vehicles.generation``, bumped by triggers when an update check's answer may change

The update check answers ``ETag: "<generation>…"`` and ``If-None-Match`` → 304 without computing
anything (``fleet.generations``). The number must move whenever the answer could, whichever code
path wrote the change (the API, the campaign controller, the CLI, a second worker), so the
database bumps it itself:

- a target row of the vehicle inserted, deleted, or changed in wave, exclusion or state — except
  ``pending`` ↔ ``offered`` (the answer offers both the same way; recording an offer is no news);
- a campaign's state, current wave, maintenance window, ``forced`` flag or release changed: every
  target of it still open (answered or excluded targets get the same "nothing" either way); a wave
  opening bumps only the waves it passes;
- the vehicle's time zone changed (its maintenance window moves).

The Director's metadata live in the OTA folder, not here: ``OtaService`` bumps the number itself
when it publishes a vehicle's metadata. On PostgreSQL the target-row triggers are per statement
(transition tables), so starting a campaign over 1,000,000 vehicles is one ``UPDATE … FROM``.

The functions are ``CREATE OR REPLACE``: a database emptied by dropping its tables (the demo build
starting over, ``store.builds``) keeps its functions, and migrating it again must not fail on them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

OPEN = "('pending', 'offered')"
#: A target row change that can change the vehicle's answer (``o``: old row, ``n``: new row).
CV_CHANGED = (
    "o.wave IS DISTINCT FROM n.wave OR o.excluded IS DISTINCT FROM n.excluded OR "
    f"(o.state IS DISTINCT FROM n.state AND NOT (o.state IN {OPEN} AND n.state IN {OPEN}))"
)
CAMPAIGN_CHANGED = (
    "o.state IS DISTINCT FROM n.state OR o.window_start IS DISTINCT FROM n.window_start OR "
    "o.window_end IS DISTINCT FROM n.window_end OR o.forced IS DISTINCT FROM n.forced OR "
    "o.release_id IS DISTINCT FROM n.release_id"
)
#: Open targets of campaign ``n`` (the ones whose answer a campaign change can move).
# constant SQL text (no user input): the trigger bodies
OPEN_TARGETS = ("SELECT vehicle_id FROM campaign_vehicles WHERE campaign_id = NEW.id "  # noqa: S608
                f"AND state IN {OPEN} AND NOT excluded")
WAVES_OPENED = (
    f"{OPEN_TARGETS} AND wave > min(OLD.current_wave, NEW.current_wave) "
    "AND wave <= max(OLD.current_wave, NEW.current_wave)"
)
BUMP = "UPDATE vehicles SET generation = generation + 1 WHERE id"


def _sqlite(old: str, new: str, text: str) -> str:
    """SQLite names the rows OLD/NEW and has no IS DISTINCT FROM (IS NOT is its null-safe inequality)."""
    return text.replace("o.", f"{old}.").replace("n.", f"{new}.").replace("IS DISTINCT FROM", "IS NOT")


SQLITE_TRIGGERS = {
    "trg_cv_generation_insert": f"AFTER INSERT ON campaign_vehicles BEGIN {BUMP} = NEW.vehicle_id; END",
    "trg_cv_generation_delete": f"AFTER DELETE ON campaign_vehicles BEGIN {BUMP} = OLD.vehicle_id; END",
    "trg_cv_generation_update": f"AFTER UPDATE ON campaign_vehicles WHEN {_sqlite('OLD', 'NEW', CV_CHANGED)} "
                                f"BEGIN {BUMP} IN (OLD.vehicle_id, NEW.vehicle_id); END",
    "trg_campaign_generation": f"AFTER UPDATE ON campaigns WHEN {_sqlite('OLD', 'NEW', CAMPAIGN_CHANGED)} "
                               f"BEGIN {BUMP} IN ({OPEN_TARGETS}); END",
    "trg_campaign_wave_generation": "AFTER UPDATE OF current_wave ON campaigns "
                                    "WHEN OLD.current_wave IS NOT NEW.current_wave "
                                    f"BEGIN {BUMP} IN ({WAVES_OPENED}); END",
    "trg_vehicle_timezone_generation": "AFTER UPDATE OF timezone ON vehicles WHEN OLD.timezone IS NOT NEW.timezone "
                                       f"BEGIN {BUMP} = NEW.id; END",
}

_PG_BUMP_ROWS = ("UPDATE vehicles v SET generation = v.generation + 1 "
                 "FROM (SELECT DISTINCT {rows}) t WHERE v.id = t.vehicle_id")
PG_FUNCTIONS = {
    "evp_cv_generation_insert": _PG_BUMP_ROWS.format(rows="vehicle_id FROM new_rows") + ";",
    "evp_cv_generation_delete": _PG_BUMP_ROWS.format(rows="vehicle_id FROM old_rows") + ";",
    "evp_cv_generation_update": _PG_BUMP_ROWS.format(
        rows="n.vehicle_id FROM new_rows n JOIN old_rows o "
             f"ON o.campaign_id = n.campaign_id AND o.vehicle_id = n.vehicle_id WHERE {CV_CHANGED}") + ";",
    "evp_campaign_generation": (
        f"IF {CAMPAIGN_CHANGED.replace('o.', 'OLD.').replace('n.', 'NEW.')} THEN {BUMP} IN ({OPEN_TARGETS}); END IF; "
        "IF OLD.current_wave IS DISTINCT FROM NEW.current_wave THEN "
        f"{BUMP} IN ({WAVES_OPENED.replace('min(', 'least(').replace('max(', 'greatest(')}); END IF;"
    ),
}
PG_TRIGGERS = {
    "trg_cv_generation_insert": ("AFTER INSERT ON campaign_vehicles REFERENCING NEW TABLE AS new_rows "
                                 "FOR EACH STATEMENT", "evp_cv_generation_insert"),
    "trg_cv_generation_delete": ("AFTER DELETE ON campaign_vehicles REFERENCING OLD TABLE AS old_rows "
                                 "FOR EACH STATEMENT", "evp_cv_generation_delete"),
    "trg_cv_generation_update": ("AFTER UPDATE ON campaign_vehicles REFERENCING OLD TABLE AS old_rows "
                                 "NEW TABLE AS new_rows FOR EACH STATEMENT", "evp_cv_generation_update"),
    "trg_campaign_generation": ("AFTER UPDATE ON campaigns FOR EACH ROW", "evp_campaign_generation"),
}
#: PostgreSQL: the vehicle's own row, before it is written (no second UPDATE of the same row).
PG_TIMEZONE = ("CREATE OR REPLACE FUNCTION evp_vehicle_timezone_generation() RETURNS trigger "
               "LANGUAGE plpgsql AS $$ BEGIN "
               "IF OLD.timezone IS DISTINCT FROM NEW.timezone THEN NEW.generation := OLD.generation + 1; END IF; "
               "RETURN NEW; END $$")


def upgrade() -> None:
    # not batch mode: on SQLite that may copy the table, and a copy drops the triggers made below
    op.add_column("vehicles", sa.Column("generation", sa.BigInteger(), nullable=False, server_default="0"))
    if op.get_bind().dialect.name == "postgresql":
        for name, body in PG_FUNCTIONS.items():
            op.execute(f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} "
                       "RETURN NULL; END $$")
        for name, (when, function) in PG_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION {function}()")
        op.execute(PG_TIMEZONE)
        op.execute("CREATE TRIGGER trg_vehicle_timezone_generation BEFORE UPDATE OF timezone ON vehicles FOR EACH ROW "
                   "EXECUTE FUNCTION evp_vehicle_timezone_generation()")
        return
    for name, body in SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    triggers = (("trg_cv_generation_insert", "campaign_vehicles"), ("trg_cv_generation_delete", "campaign_vehicles"),
                ("trg_cv_generation_update", "campaign_vehicles"), ("trg_campaign_generation", "campaigns"),
                ("trg_campaign_wave_generation", "campaigns"), ("trg_vehicle_timezone_generation", "vehicles"))
    for name, table in triggers:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}" if postgresql else f"DROP TRIGGER IF EXISTS {name}")
    if postgresql:
        for name in (*PG_FUNCTIONS, "evp_vehicle_timezone_generation"):
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    with op.batch_alter_table("vehicles") as batch:
        batch.drop_column("generation")
