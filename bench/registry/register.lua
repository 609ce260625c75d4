-- wrk script: every request registers a new schema (a new title) under one of 64 subjects per
-- thread, so that each registration is a new version checked for BACKWARD compatibility against
-- the subject's latest. Counts answers that are not 200 and prints the latency percentiles.
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  failures = 0
end

function request()
  counter = counter + 1
  local subject = "bench-" .. thread_id .. "-" .. (counter % 64)
  local schema = '{\\"type\\":\\"object\\",\\"title\\":\\"t' .. thread_id .. '-' .. counter ..
      '\\",\\"properties\\":{\\"order_id\\":{\\"type\\":\\"string\\"},\\"total\\":{\\"type\\":\\"number\\"}},\\"additionalProperties\\":false}'
  local body = '{"schemaType":"JSON","schema":"' .. schema .. '"}'
  return wrk.format("POST", "/subjects/" .. subject .. "/versions",
                    {["Content-Type"] = "application/vnd.schemaregistry.v1+json"}, body)
end

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
