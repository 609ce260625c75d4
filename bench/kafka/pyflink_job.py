#!/usr/bin/env python3
"""bench/kafka's peer: the Kafka → canonical events + state job of `canonry run`, in PyFlink.

  pyflink_job.py --bootstrap HOST:PORT --input TOPIC --events TOPIC --state STATE_DB
                 --connector JAR [--bounds P:OFFSET,... | --unbounded] [--parallelism N]
                 [--checkpoint-interval MS] [--bundle-time MS] [--group GROUP]

Flink SQL's Kafka connector reads the input topic (raw values, from the earliest offset, as a
read_committed consumer); a Python table function (a UDF yielding one row per message) maps each
message with the hand-written shop_v1 mapping of bench/map/shop_v1.py (imported, not copied); a
Kafka sink writes the canonical order keyed by its canonical key (compact JSON, as canonry keys
it), stamped with the source message's timestamp (as canonry stamps it, so end-to-end latency is
read off the events topic), with exactly-once delivery: Kafka transactions committed at each
Flink checkpoint, as canonry commits at each checkpoint_interval.

The state: the UDF also upserts each order into STATE_DB, in the tables canonry's SQLite store
uses (so that `canonry state dump` reads both), one transaction per 2048 records, guarded by the
source position (partition, offset) as canonry's store is, so that a replay after a failure
never moves an entity back. Flink has no SQLite sink and PyFlink no Python sink API; keyed state
(the other candidate) cannot be read from outside the job since queryable state was removed in
Flink 2.0, and would make no row anyone can serve or check. See bench/README.md.

--bounds (PARTITION:OFFSET,...) ends the read at those offsets (a prefix of the topic); without
it the job reads up to the offsets the partitions had at start. The job then ends after its
final checkpoint. With --unbounded it runs until killed (the latency runs).
"""
import argparse
import json
import os
import sqlite3
import sys
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "map"))
sys.path.insert(0, os.path.join(HERE, "..", "pipeline"))

from pipeline import SCHEMA  # noqa: E402  (canonry's SQLite tables, as the pipeline peer makes them)
from pyflink.table import DataTypes, EnvironmentSettings, TableEnvironment  # noqa: E402
from pyflink.table.udf import TableFunction, udtf  # noqa: E402

SUBJECT = "canonical.order.v1"
BATCH = 2048

# Newer positions of the same partition win; a replayed older message changes nothing.
UPSERT = """
INSERT INTO canonry_entities VALUES (?, ?, ?, 'shop_v1', ?, ?, 0)
ON CONFLICT (subject, key) DO UPDATE SET document = excluded.document,
  partition = excluded.partition, position = excluded.position
WHERE NOT (canonry_entities.partition = excluded.partition
           AND canonry_entities.position > excluded.position)
"""


class MapAndStore(TableFunction):
    """The shop_v1 mapping of one message, its state upsert batched into SQLite."""

    def __init__(self, state_path):
        self.state_path = state_path

    def open(self, function_context):
        import shop_v1  # on the Python worker: bench/map is on its path (add_python_file)
        self.shop_v1 = shop_v1
        self.db = sqlite3.connect(self.state_path, isolation_level=None, timeout=60,
                                  check_same_thread=False)
        self.db.executescript("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;" + SCHEMA)
        self.entities, self.index = [], []

    def commit(self):
        if not self.entities:
            return
        self.db.execute("BEGIN IMMEDIATE")
        self.db.executemany(UPSERT, self.entities)
        self.db.executemany(
            "INSERT OR REPLACE INTO canonry_source_keys VALUES ('shop_v1', ?, ?, ?)", self.index)
        self.db.execute("COMMIT")
        self.entities.clear()
        self.index.clear()

    def eval(self, value, partition, offset):
        shop_v1 = self.shop_v1
        try:
            document = json.loads(value, parse_float=Decimal)
            order = shop_v1.map_order(document)
            text = shop_v1.encode(order, value.encode())
        except (ValueError, KeyError, AttributeError, TypeError):
            return  # no row: the run checks that every message made one
        key = shop_v1.encode(order["order_id"], b"")
        self.entities.append((SUBJECT, key, text, partition, offset + 1))
        if "_id" in document:
            self.index.append((shop_v1.encode(document["_id"], b""), SUBJECT, key))
        if len(self.entities) >= BATCH:
            self.commit()
        yield key, text

    def close(self):
        self.commit()
        self.db.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--events", required=True)
    parser.add_argument("--state", required=True)
    parser.add_argument("--connector", required=True, help="flink-sql-connector-kafka jar")
    parser.add_argument("--bounds", help="PARTITION:OFFSET,... where the read ends")
    parser.add_argument("--unbounded", action="store_true")
    parser.add_argument("--parallelism", type=int, default=os.cpu_count())
    parser.add_argument("--checkpoint-interval", type=int, default=1000, help="milliseconds")
    parser.add_argument("--group", default="pyflink")
    parser.add_argument("--bundle-time", type=int, default=1000,
                        help="milliseconds a bundle of records waits for the Python worker")
    args = parser.parse_args()

    env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    config = env.get_config()
    config.set("pipeline.jars", "file://" + os.path.abspath(args.connector))
    config.set("parallelism.default", str(args.parallelism))
    config.set("execution.checkpointing.interval", f"{args.checkpoint_interval}ms")
    config.set("execution.checkpointing.mode", "EXACTLY_ONCE")
    config.set("python.fn-execution.bundle.time", str(args.bundle_time))
    config.set("python.executable", sys.executable)
    config.set("python.client.executable", sys.executable)
    env.add_python_file(os.path.join(HERE, "..", "map", "shop_v1.py"))

    if args.unbounded:
        bounded = ""
    elif args.bounds:
        offsets = ";".join(f"partition:{p},offset:{o}" for p, o in
                           (b.split(":") for b in args.bounds.split(",")))
        bounded = f"'scan.bounded.mode' = 'specific-offsets', " \
                  f"'scan.bounded.specific-offsets' = '{offsets}',"
    else:
        bounded = "'scan.bounded.mode' = 'latest-offset',"
    env.execute_sql(f"""
      CREATE TABLE orders_in (
        `value` STRING,
        `partition` INT METADATA VIRTUAL,
        `offset` BIGINT METADATA VIRTUAL,
        `ts` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL
      ) WITH (
        'connector' = 'kafka', 'topic' = '{args.input}',
        'properties.bootstrap.servers' = '{args.bootstrap}',
        'properties.group.id' = '{args.group}',
        'properties.isolation.level' = 'read_committed',
        'scan.startup.mode' = 'earliest-offset', {bounded}
        'format' = 'raw'
      )""")
    env.execute_sql(f"""
      CREATE TABLE events_out (
        k STRING, v STRING, `ts` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp'
      ) WITH (
        'connector' = 'kafka', 'topic' = '{args.events}',
        'properties.bootstrap.servers' = '{args.bootstrap}',
        'properties.transaction.timeout.ms' = '60000',
        'key.format' = 'raw', 'key.fields' = 'k',
        'value.format' = 'raw', 'value.fields-include' = 'EXCEPT_KEY',
        'sink.delivery-guarantee' = 'exactly-once',
        'sink.transactional-id-prefix' = '{args.group}-{args.events}'
      )""")
    map_and_store = udtf(MapAndStore(os.path.abspath(args.state)),
                         result_types=[DataTypes.STRING(), DataTypes.STRING()])
    env.create_temporary_function("map_and_store", map_and_store)
    env.execute_sql("""
      INSERT INTO events_out
      SELECT k, v, ts FROM orders_in,
        LATERAL TABLE(map_and_store(`value`, `partition`, `offset`)) AS t(k, v)""").wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
