-- wrk script: collect the Server-Timing "app;dur=" of every response and
-- print the server-side percentiles at the end.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  durations = {}
end

function response(status, headers, body)
  local value = headers["Server-Timing"] or headers["server-timing"]
  if value then
    local ms = tonumber(string.match(value, "dur=([%d%.]+)"))
    if ms then table.insert(durations, ms) end
  end
end

function done(summary, latency, requests)
  local all = {}
  for _, thread in ipairs(threads) do
    local found = thread:get("durations")
    for i = 1, #found do table.insert(all, found[i]) end
  end
  table.sort(all)
  if #all > 0 then
    local function pct(p) return all[math.max(1, math.floor(#all * p))] end
    io.write(string.format("SERVER n=%d p50=%.3f p99=%.3f\n", #all, pct(0.5), pct(0.99)))
  end
end
