-- Shared by the wrk scripts (loaded with dofile from the repository root, where run.sh runs
-- wrk): counts answers that are not 200 in every thread and prints one RESULT line that run.sh
-- reads. A script's setup() adds its threads to `threads`.
threads = {}
failures = 0

function response(status, headers, body)
  if status ~= 200 then failures = failures + 1 end
end

function done(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do failed = failed + thread:get("failures") end
  io.write(string.format("RESULT requests=%d seconds=%.3f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f failed=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3, failed + summary.errors.status))
end
