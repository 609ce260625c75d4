#!/usr/bin/env python3
"""The pipeline benchmark's Python peer: what `canonry run` does for a file → SQLite pipeline,
written by hand for the shop_v1 mapping.

  pipeline.py INPUT STATE_DB EVENTS

Reads mongoexport lines, maps each with bench/map/shop_v1.py's hand-written mapping, appends the
canonical orders to EVENTS and upserts them into STATE_DB in the tables canonry's SQLite store
uses (so that `canonry state dump` reads both), one transaction per 2048 records with the
position it covers, as a careful engineer would make it restartable. Standard library only.
"""
import os
import sqlite3
import sys
from decimal import Decimal

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "map"))
import shop_v1  # noqa: E402  (the mapping, shared with the map benchmark)

SCHEMA = """
CREATE TABLE IF NOT EXISTS canonry_entities (
  subject TEXT NOT NULL, key TEXT NOT NULL, document TEXT,
  source TEXT NOT NULL, partition INTEGER NOT NULL, position INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL, PRIMARY KEY (subject, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS canonry_source_keys (
  source TEXT NOT NULL, source_key TEXT NOT NULL, subject TEXT NOT NULL, key TEXT NOT NULL,
  PRIMARY KEY (source, source_key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS canonry_positions (
  source TEXT NOT NULL, partition INTEGER NOT NULL, position INTEGER NOT NULL,
  PRIMARY KEY (source, partition)) WITHOUT ROWID;
"""
UPSERT = """
INSERT INTO canonry_entities VALUES (?, ?, ?, 'shop_v1', 0, ?, 0)
ON CONFLICT (subject, key) DO UPDATE SET document = excluded.document, position = excluded.position
WHERE canonry_entities.position < excluded.position
"""
SUBJECT = "canonical.order.v1"
BATCH = 2048


def key_json(value):
    return shop_v1.encode(value, b"")


def main():
    if len(sys.argv) != 4:
        print("usage: pipeline.py INPUT STATE_DB EVENTS", file=sys.stderr)
        return 2
    db = sqlite3.connect(sys.argv[2], isolation_level=None)
    db.executescript("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;" + SCHEMA)
    held = db.execute("SELECT position FROM canonry_positions WHERE source = 'shop_v1'").fetchone()
    start = held[0] if held else 0
    failed = 0
    with open(sys.argv[1], "rb") as source, open(sys.argv[3], "a", encoding="utf-8") as events:
        source.seek(start)
        position = start
        entities, index, lines = [], [], []

        def commit():
            db.execute("BEGIN IMMEDIATE")
            db.executemany(UPSERT, entities)
            db.executemany("INSERT OR REPLACE INTO canonry_source_keys VALUES ('shop_v1', ?, ?, ?)",
                           index)
            db.execute("INSERT OR REPLACE INTO canonry_positions VALUES ('shop_v1', 0, ?)",
                       (position,))
            db.execute("COMMIT")
            events.write("".join(lines))
            entities.clear()
            index.clear()
            lines.clear()

        for line in source:
            position += len(line)
            try:
                document = shop_v1.json.loads(line, parse_float=Decimal)
                order = shop_v1.map_order(document)
                text = shop_v1.encode(order, line)
            except (ValueError, KeyError, AttributeError, TypeError):
                failed += 1
                continue
            key = key_json(order["order_id"])
            entities.append((SUBJECT, key, text, position))
            if "_id" in document:
                index.append((key_json(document["_id"]), SUBJECT, key))
            lines.append(text)
            lines.append("\n")
            if len(entities) >= BATCH:
                commit()
        commit()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
