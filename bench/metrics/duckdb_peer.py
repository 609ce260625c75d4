"""The DuckDB side of bench/metrics: the metric of orders_hourly.json as read_json + GROUP BY over
the same file, rows written as canonry writes them. Prints the seconds the query took (from
connecting to the output written, the interpreter's start-up excluded) on standard output.

MODE approx: count_distinct and quantile by DuckDB's sketches (approx_count_distinct, a
HyperLogLog; approx_quantile, a t-digest), as canonry computes them: the timed run.
MODE exact: count(DISTINCT) and quantile_disc, to check canonry's sketches against.

usage: duckdb_peer.py INPUT OUTPUT THREADS approx|exact
"""
import sys
import time

import duckdb

source, output, threads, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
exact = mode == "exact"
distinct = "count(DISTINCT customer.email)" if exact else "approx_count_distinct(customer.email)"
quantile = "quantile_disc(total, 0.95)" if exact else "approx_quantile(total, 0.95)"
started = time.perf_counter()
db = duckdb.connect()
db.execute(f"SET threads TO {threads}")
db.execute("SET TimeZone = 'UTC'")
# The same columns canonry reads, typed as the canonical schema has them: the total as an exact
# decimal (as canonry sums it), the time as a timestamp with zone.
query = f"""
COPY (
  SELECT 'orders_by_region_hourly' AS metric,
         strftime(time_bucket(INTERVAL 1 hour, created_at), '%Y-%m-%dT%H:%M:%S.000Z') AS window_start,
         strftime(time_bucket(INTERVAL 1 hour, created_at) + INTERVAL 1 hour,
                  '%Y-%m-%dT%H:%M:%S.000Z') AS window_end,
         region, status,
         count(*) AS orders,
         sum(total) AS revenue,
         avg(total) AS avg_total,
         min(total) AS min_total,
         max(total) AS max_total,
         {distinct} AS customers,
         {quantile} AS p95_total
  FROM read_json('{source}', format = 'newline_delimited',
                 columns = {{created_at: 'TIMESTAMPTZ', region: 'VARCHAR', status: 'VARCHAR',
                             total: 'DECIMAL(18,2)', customer: 'STRUCT(email VARCHAR)'}})
  GROUP BY ALL
  ORDER BY window_start, region NULLS FIRST, status NULLS FIRST
) TO '{output}' (FORMAT JSON)
"""
db.execute(query)
print(f"{time.perf_counter() - started:.3f}")
