-- wrk script: every request a fresh batch of Segment track events with unique
-- message ids. Arguments: events per request, write key, a run id unique to this
-- wrk run (message ids are "<run id>-<thread>-<counter>").
local counter = 0
local thread_tag = ""
local size = 20
local auth = ""
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  size = tonumber(args[1]) or 20
  auth = args[2] or ""
  thread_tag = (args[3] or "run") .. "-" .. tostring(thread_number)
end

local function event(n)
  return string.format(
    '{"type":"track","event":"Product Viewed","anonymousId":"visitor-%d","messageId":"%s-%d",' ..
    '"timestamp":"2026-11-25T10:00:00.000Z","properties":{"product_id":"sku-%d","name":"Blue mug",' ..
    '"category":"Kitchen","price":12.5,"currency":"EUR"},"context":{"page":{"url":"https://shop.example/p/%d",' ..
    '"path":"/p/%d","referrer":"https://shop.example/","title":"Blue mug"},"userAgent":"Mozilla/5.0 (X11; Linux x86_64)",' ..
    '"locale":"fr-FR","library":{"name":"basirat.js","version":"0.1.0"}}}',
    n % 5000, thread_tag, n, n % 997, n % 997, n % 997)
end

function request()
  local body, path
  if size == 1 then
    counter = counter + 1
    body, path = event(counter), "/v1/track"
  else
    local parts = {}
    for i = 1, size do
      counter = counter + 1
      parts[i] = event(counter)
    end
    body, path = '{"batch":[' .. table.concat(parts, ",") .. '],"sentAt":"2026-11-25T10:00:00.000Z"}', "/v1/batch"
  end
  return wrk.format("POST", path, {["Content-Type"] = "application/json", ["Authorization"] = auth}, body)
end
