-- wrk script: every request registers a new schema (a new title) under one of 64 subjects per
-- thread, so that each registration is a new version checked for BACKWARD compatibility against
-- the subject's latest.
dofile("bench/registry/results.lua")

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
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
