"""Seeds: the built-in demo, validation messages, idempotent re-seeding, hashed keys."""

from __future__ import annotations

import copy
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from cadence_adapter.sandbox import DEMO_SEED_PATH, SeedError, create_app, load_seed, sandbox_of
from cadence_adapter.sandbox.availability import DAY_KEYS
from cadence_adapter.sandbox.server import run
from tests.sandbox.helpers import KEY, small_seed


def test_demo_seed_is_two_believable_businesses() -> None:
    seed = load_seed(None)
    movela, bloom = seed.orgs
    assert (movela.slug, movela.name, movela.timezone) == ("movela", "Movela Physio", "Europe/Lisbon")
    assert movela.api_keys == ["ck_test_movela_demo"] and movela.webhooks == []
    durations = {s.name: s.duration_minutes for s in movela.services}
    assert durations["Initial assessment"] == 60 and durations["Follow-up session"] == 30
    assert len(set(durations.values())) == len(durations) >= 4
    assert [p.name for p in movela.practitioners] == ["Ana Costa", "Bruno Reis", "Carla Mendes"]
    hours = [p.hours for p in movela.practitioners]
    assert len({json.dumps(h, sort_keys=True) for h in hours}) == 3  # everyone works different hours
    assert any(len(intervals) == 2 for h in hours for intervals in h.values())  # a lunch break
    assert any("sat" in h for h in hours)  # Saturday mornings

    assert (bloom.slug, bloom.name, bloom.timezone) == ("bloom", "Bloom Hair Studio", "America/New_York")
    assert bloom.api_keys == ["ck_test_bloom_demo"]
    assert {s.name: s.duration_minutes for s in bloom.services} == {
        "Haircut": 30,
        "Colour": 90,
        "Beard trim": 15,
        "Blow-dry": 45,
    }
    assert any(p.name.startswith("Ana") for p in bloom.practitioners)
    open_days = {day for p in bloom.practitioners for day in p.hours}
    assert open_days == {"tue", "wed", "thu", "fri", "sat"}
    latest = max(end for p in bloom.practitioners for day in p.hours.values() for _, end in day)
    assert latest >= "20:00"


def test_demo_seed_file_uses_known_day_keys() -> None:
    raw = json.loads(DEMO_SEED_PATH.read_text())
    days = {day for org in raw["orgs"] for p in org["practitioners"] for day in p["hours"]}
    assert days <= set(DAY_KEYS)


def _broken(change: Any) -> dict[str, Any]:
    seed = copy.deepcopy(small_seed(other_org=False))
    change(seed["orgs"][0])
    return seed


@pytest.mark.parametrize(
    ("change", "where", "what"),
    [
        (lambda o: o.update(timezone="Mars/Olympus"), "orgs[0].timezone", "unknown time zone"),
        (
            lambda o: o["practitioners"][1]["hours"].update(mon=[["13:00", "09:00"]]),
            "orgs[0].practitioners[1].hours",
            "end 09:00 is not after start 13:00",
        ),
        (lambda o: o["practitioners"][0]["service_ids"].append("svc_nope"), "orgs[0]", "unknown service"),
        (lambda o: o["services"][0].update(duration_minutes=0), "orgs[0].services[0].duration_minutes", ""),
        (lambda o: o["services"].append(dict(o["services"][0])), "orgs[0]", "duplicate service id"),
        (lambda o: o.update(slug="Not A Slug"), "orgs[0].slug", ""),
        (lambda o: o.update(colour="teal"), "orgs[0].colour", "Extra inputs"),
        (lambda o: o.pop("name"), "orgs[0].name", "Field required"),
        (
            lambda o: o["webhooks"].append(
                {"url": "ftp://x", "secret": "whsec_123456", "events": ["booking.created"]}
            ),
            "orgs[0].webhooks[0].url",
            "",
        ),
    ],
)
def test_bad_seed_says_where_and_what(change: Any, where: str, what: str) -> None:
    with pytest.raises(SeedError) as info:
        load_seed(_broken(change))
    message = str(info.value)
    assert message.startswith("seed (dict) is invalid:")
    assert f"  {where}" in message and what in message


def test_duplicate_slugs_across_orgs_are_refused() -> None:
    seed = small_seed()
    seed["orgs"][1]["slug"] = "acme"
    with pytest.raises(SeedError, match="duplicate org slug 'acme'"):
        load_seed(seed)


def test_seed_file_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "seed.json"
    bad.write_text('{"orgs": [\n  {"id": "x",}\n]}')
    with pytest.raises(SeedError, match=r"seed .*seed\.json is not JSON: line 2"):
        load_seed(bad)
    with pytest.raises(SeedError, match="cannot read seed"):
        load_seed(tmp_path / "missing.json")
    assert run(host="127.0.0.1", port=0, db=None, seed=bad) == 2


def test_run_reports_an_unusable_database_or_port(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(host="127.0.0.1", port=0, db=tmp_path / "no" / "such" / "dir.db", seed=None) == 1
    assert "cannot use database" in capsys.readouterr().err
    assert run(host="203.0.113.7", port=0, db=None, seed=None) == 1  # an address this machine lacks
    assert "cannot listen on 203.0.113.7:0" in capsys.readouterr().err


def test_seed_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(small_seed()))
    assert [org.slug for org in load_seed(path).orgs] == ["acme", "other"]


@pytest.mark.anyio
async def test_reseeding_a_database_file_is_idempotent_and_stores_only_key_hashes(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    seed = small_seed(
        webhooks=[{"url": "http://hook.test/x", "secret": "whsec_seeded", "events": ["booking.created"]}]
    )
    for _ in range(2):
        app = create_app(db=db, seed=seed)
        await sandbox_of(app).aclose()
    with sqlite3.connect(db) as conn:
        counts = {
            table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("orgs", "api_keys", "services", "practitioners", "webhook_endpoints")
        }
        dump = "\n".join(conn.iterdump())
    assert counts == {"orgs": 2, "api_keys": 2, "services": 4, "practitioners": 3, "webhook_endpoints": 1}
    assert KEY not in dump and "ck_test_other_key" not in dump
