-- wrk script: GET /schemas/ids/{id} for ids drawn uniformly from 1..MAX_ID (first argument).
dofile("bench/registry/results.lua")

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  max_id = tonumber(args[1])
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
  return wrk.format("GET", "/schemas/ids/" .. math.random(1, max_id))
end
