-- wrk script: BATCH events per request (environment, default 1), each with
-- its own id and object.
--   FORMAT=native (default): Herald's POST /api/v1/events; one event is sent
--     bare, more as {"events":[...]}.
--   FORMAT=alertmanager: Alertmanager's POST /api/v2/alerts as Prometheus
--     sends it, a JSON array of firing alerts (startsAt now, endsAt four
--     minutes on), severity critical, each named by a `seq` label unique
--     across threads (Alertmanager ignores the bearer token).
local batch = tonumber(os.getenv("BATCH") or "1")
local alertmanager = os.getenv("FORMAT") == "alertmanager"
local counter = 0
local threads_made = 0
-- setup runs in the main Lua state; `thread:set` makes a global in each
-- thread's own state, which `request` reads (a local would not be shared).
setup = function(thread)
  thread:set("thread_number", threads_made)
  threads_made = threads_made + 1
end
local headers = {["Authorization"] = "Bearer bench-token", ["Content-Type"] = "application/json"}
request = function()
  local items = {}
  local starts, ends
  if alertmanager then
    local now = os.time()
    starts, ends = os.date("!%Y-%m-%dT%H:%M:%SZ", now), os.date("!%Y-%m-%dT%H:%M:%SZ", now + 240)
  end
  for i = 1, batch do
    counter = counter + 1
    if alertmanager then
      items[i] = string.format('{"labels":{"alertname":"Bench","instance":"host-%d","severity":"critical","seq":"%d-%d"},'
        .. '"annotations":{"summary":"benchmark alert"},"startsAt":"%s","endsAt":"%s"}',
        counter % 100, thread_number, counter, starts, ends)
    else
      local id = string.format("w%d-%d-%d", batch, thread_number, counter)
      items[i] = '{"id":"' .. id .. '","name":"Bench","level":"Critical","object_id":"' .. id .. '"}'
    end
  end
  if alertmanager then
    return wrk.format("POST", "/api/v2/alerts", headers, "[" .. table.concat(items, ",") .. "]")
  end
  local body = batch == 1 and items[1] or ('{"events":[' .. table.concat(items, ",") .. ']}')
  return wrk.format("POST", "/api/v1/events", headers, body)
end
