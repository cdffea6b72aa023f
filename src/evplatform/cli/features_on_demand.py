"""``evplatform fod``: features on demand — offers per car, buy/cancel/list entitlements, sync, revenue.

Parsing and rendering only: the rules are in ``evplatform.ondemand``. ``buy``, ``cancel`` and
``sync`` deliver the new configuration to the vehicle as a signed Uptane target when ``--ota`` names
the OTA folder (the Image repository's targets key signs it; the Director assigns it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from evplatform.cli.actor import ActorOpt
from evplatform.cli.common import JsonOpt, WorkspaceArg, console, money, pct, print_json
from evplatform.cli.ota_options import InsecureDemoKeysOpt, KeysOpt, PassphraseEnvOpt, keyring_of
from evplatform.clock import system_clock
from evplatform.errors import NotFoundError
from evplatform.ondemand import activation, catalogue, ledger, revenue
from evplatform.ondemand.activation import SyncResult
from evplatform.ota.service import OtaService
from evplatform.store import Store, default_database_url, open_store
from evplatform.store import vehicles as vdb
from evplatform.workspace import Workspace, load_workspace

fod_app = typer.Typer(help="Features on demand: paid software features per vehicle, entitlements, revenue.",
                      no_args_is_help=True)

DatabaseOpt = Annotated[
    str | None,
    typer.Option("--database", help="Database URL (default: EVPLATFORM_DATABASE_URL or the workspace's .evplatform/)."),
]
VinArg = Annotated[str, typer.Argument(help="The vehicle's VIN.")]
FeatureArg = Annotated[str, typer.Argument(help="The paid feature's id (on-demand.yaml).")]
OtaOpt = Annotated[Path | None, typer.Option("--ota", help="OTA folder: also deliver the signed configuration to "
                                                          "the vehicle (Image repository + Director).")]


def _open(ws: Workspace, workspace: Path | None, database: str | None) -> Store:
    return open_store(database or default_database_url(ws.root, bundled=workspace is None))


def _deliver(ws: Workspace, result: SyncResult, ota: Path | None, keys: Path | None, passphrase_env: str | None,
             insecure: bool) -> dict[str, Any] | None:
    """Sign and assign the configuration when an OTA folder is given and something changed."""
    if ota is None or not result.changes:
        return None
    keyring = keyring_of(ota, keys, passphrase_env, insecure)
    service = OtaService(ota, system_clock)  # its online keys are in <ota>/keys; --keys holds the offline ones
    assignment = activation.deliver(service, keyring.signers("image", "targets"), ws, result)
    return {"target": assignment.filepath, "ecu_serial": assignment.ecu_serial,
            "release_counter": assignment.release_counter}


@fod_app.command("offers")
def offers(
    vin: Annotated[str | None, typer.Option("--vin", help="Offers for this registered vehicle.")] = None,
    trim: Annotated[str | None, typer.Option("--trim", help="Offers for a trim (model/trim) instead.")] = None,
    market: Annotated[str | None, typer.Option("--market", help="The trim's market (default: base market).")] = None,
    workspace: WorkspaceArg = None,
    database: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The paid features, their price, and whether a car (a VIN or a trim × market) can run each, and why not."""
    ws = load_workspace(workspace)
    if vin is not None:
        with _open(ws, workspace, database) as store:
            vehicle = vdb.vehicle_by_vin(store, vin)
        if vehicle is None:
            raise NotFoundError("vehicle", vin)
        configuration, where = vehicle.configuration, f"{vin} ({vehicle.trim_key} in {vehicle.market})"
    elif trim is not None:
        chosen = ws.trim(trim)
        configuration, where = ws.configuration(chosen, market), f"{chosen.key} in {market or ws.platform.base_market}"
    else:
        configuration, where = None, "the catalogue"
    verdicts = (catalogue.offers(ws, configuration) if configuration is not None
                else [catalogue.Eligibility(f, True, ()) for f in ws.on_demand.features.values()])
    rows = [v.to_dict(ws.platform.currency) for v in verdicts]
    if as_json:
        print_json({"for": where, "currency": ws.platform.currency, "offers": rows})
        return
    table = Table(title=f"Features on demand for {where}")
    for column in ("feature", "billing", "price", "requires", "type approval", "can run"):
        table.add_column(column)
    for r in rows:
        per = " /month" if r["billing"] == "monthly" else ""
        verdict = "yes" if r["eligible"] else "no: " + "; ".join(r["reasons"])
        table.add_row(r["feature"], r["billing"], money(r["price"], r["currency"]) + per, r["requires"],
                      "RXSWIN changes" if r["type_approval_relevant"] else "—", verdict)
    console.print(table)


def _print_change(entitlement: dict[str, Any], result: SyncResult, delivered: dict[str, Any] | None) -> None:
    console.print(f"entitlement {entitlement['id']}: {entitlement['feature']} for {entitlement['vin']} "
                  f"({money(entitlement['price'], entitlement['currency'])}, {entitlement['billing']}, "
                  f"until {entitlement['valid_to'] or 'open'})")
    for change in result.changes:
        console.print(f"  {change.change} {change.feature} ({change.reason})"
                      + (" — RXSWIN renewed" if change.type_approval_relevant else ""))
    if delivered:
        console.print(f"  delivered {delivered['target']} to ECU {delivered['ecu_serial']}")


def _deliver_and_show(ws: Workspace, entitlement: dict[str, Any], result: SyncResult, ota: Path | None,
                      keys: Path | None, passphrase_env: str | None, insecure: bool, as_json: bool) -> None:
    """After a sale or a cancellation: deliver the new configuration (with --ota), then show the change."""
    delivered = _deliver(ws, result, ota, keys, passphrase_env, insecure)
    if as_json:
        print_json({"entitlement": entitlement, "sync": result.to_dict(), "delivered": delivered})
        return
    _print_change(entitlement, result, delivered)


@fod_app.command("buy")
def buy(
    vin: VinArg,
    feature: FeatureArg,
    channel: Annotated[str, typer.Option("--channel", help="Sales channel (one of on-demand.yaml channels).")],
    months: Annotated[int | None, typer.Option("--months", min=1, max=ledger.MAX_MONTHS,
                                               help="A fixed term in months (default: open-ended).")] = None,
    workspace: WorkspaceArg = None,
    database: DatabaseOpt = None,
    ota: OtaOpt = None,
    keys: KeysOpt = None,
    passphrase_env: PassphraseEnvOpt = None,
    insecure_demo_keys: InsecureDemoKeysOpt = False,
    actor: ActorOpt = "cli",
    as_json: JsonOpt = False,
) -> None:
    """Sell a paid feature to a vehicle (refused, with the reason, when its hardware cannot run it)."""
    ws = load_workspace(workspace)
    with _open(ws, workspace, database) as store:
        record, result = ledger.buy(store, ws, vin, feature, channel=channel, actor=actor, months=months)
        entitlement = ledger.entitlement_view(record, store.now())
    _deliver_and_show(ws, entitlement, result, ota, keys, passphrase_env, insecure_demo_keys, as_json)


@fod_app.command("cancel")
def cancel(
    vin: VinArg,
    feature: FeatureArg,
    workspace: WorkspaceArg = None,
    database: DatabaseOpt = None,
    ota: OtaOpt = None,
    keys: KeysOpt = None,
    passphrase_env: PassphraseEnvOpt = None,
    insecure_demo_keys: InsecureDemoKeysOpt = False,
    actor: ActorOpt = "cli",
    as_json: JsonOpt = False,
) -> None:
    """End a vehicle's entitlement to a feature now (server clock); the deactivation follows."""
    ws = load_workspace(workspace)
    with _open(ws, workspace, database) as store:
        record, result = ledger.cancel(store, ws, vin, feature, actor=actor)
        entitlement = ledger.entitlement_view(record, store.now())
    _deliver_and_show(ws, entitlement, result, ota, keys, passphrase_env, insecure_demo_keys, as_json)


@fod_app.command("list")
def list_command(
    vin: Annotated[str | None, typer.Argument(help="Only this vehicle's entitlements.")] = None,
    feature: Annotated[str | None, typer.Option("--feature", help="Only this feature.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100_000, help="At most this many rows.")] = 1000,
    workspace: WorkspaceArg = None,
    database: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Entitlements (from, to, price, channel, active now), oldest first."""
    ws = load_workspace(workspace)
    with _open(ws, workspace, database) as store:
        rows = ledger.listing(store, vin=vin, feature=feature, limit=limit)
        records = activation.change_records(store, vin) if vin is not None else []
    if as_json:
        print_json({"entitlements": rows, **({"changes": records} if vin is not None else {})})
        return
    table = Table(title=f"Entitlements{' of ' + vin if vin else ''} ({len(rows)})")
    for column in ("id", "vin", "trim", "market", "feature", "from", "to", "price", "channel", "basis", "active"):
        table.add_column(column)
    for r in rows:
        table.add_row(str(r["id"]), r["vin"], f"{r['model']}/{r['trim']}", r["market"], r["feature"],
                      r["valid_from"][:10], (r["valid_to"] or "open")[:10], money(r["price"], r["currency"]),
                      r["channel"], r["basis"], "yes" if r["active"] else "no")
    console.print(table)
    for c in records:
        console.print(f"{c['at'][:19]} {c['change']} {c['feature']} ({c['reason']}), configuration {c['counter']}"
                      + (f", RXSWIN {c['rxswin_before']} → {c['rxswin_after']}" if c["rxswin_changed"] else ""))


@fod_app.command("sync")
def sync_command(
    vin: Annotated[str | None, typer.Argument(help="One vehicle (default: every vehicle holding an entitlement).")]
    = None,
    workspace: WorkspaceArg = None,
    database: DatabaseOpt = None,
    ota: OtaOpt = None,
    keys: KeysOpt = None,
    passphrase_env: PassphraseEnvOpt = None,
    insecure_demo_keys: InsecureDemoKeysOpt = False,
    actor: ActorOpt = "cli",
    as_json: JsonOpt = False,
) -> None:
    """Apply expiries and cancellations at the server clock: record and (with --ota) deliver each change."""
    ws = load_workspace(workspace)
    with _open(ws, workspace, database) as store:
        results = ([activation.sync(store, ws, vin, actor=actor)] if vin is not None
                   else activation.sync_due(store, ws, actor=actor))
    changed = [r for r in results if r.changes]
    delivered = [_deliver(ws, r, ota, keys, passphrase_env, insecure_demo_keys) for r in changed]
    if as_json:
        print_json({"synced": [{**r.to_dict(), "delivered": d} for r, d in zip(changed, delivered, strict=True)]})
        return
    console.print(f"{len(changed)} vehicle(s) changed")
    for r in changed:
        console.print(f"  {r.vin}: " + ", ".join(f"{c.change} {c.feature} ({c.reason})" for c in r.changes))


@fod_app.command("revenue")
def revenue_command(workspace: WorkspaceArg = None, database: DatabaseOpt = None, as_json: JsonOpt = False) -> None:
    """Monthly recurring revenue, one-off sales, churn and attach rates per trim × market (server clock)."""
    ws = load_workspace(workspace)
    with _open(ws, workspace, database) as store:
        report = revenue.summary(store, ws)
    if as_json:
        print_json(report)
        return
    cur = report["currency"]
    basis = " (ESTIMATE: seeded demo take-up)" if report["basis"] != "recorded" else ""
    console.print(f"MRR {money(report['mrr'], cur)} /month from {report['subscribers']:,} subscriptions{basis}; "
                  f"one-off sales in the last month {money(report['one_off_last_month'], cur)}; "
                  f"monthly churn {pct(report['churn_rate'])}")
    table = Table(title="By feature")
    for column in ("feature", "billing", "price", "holders", "eligible", "attach rate", "MRR"):
        table.add_column(column)
    for f in report["by_feature"]:
        table.add_row(f["feature"], f["billing"], money(f["price"], cur), f"{f['holders']:,}", f"{f['eligible']:,}",
                      pct(f["attach_rate"]), money(f["mrr"], cur))
    console.print(table)
    attach = Table(title="Attach rate per trim × market (vehicles with any paid feature)")
    for column in ("trim", "market", "vehicles", "with a paid feature", "attach rate"):
        attach.add_column(column)
    for r in report["attach"]:
        attach.add_row(r["trim"], r["market"], f"{r['vehicles']:,}", f"{r['with_any']:,}", pct(r["attach_rate"]))
    console.print(attach)


def register(app: typer.Typer) -> None:
    app.add_typer(fod_app, name="fod")
