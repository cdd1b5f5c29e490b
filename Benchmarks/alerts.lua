-- wrk script: Alertmanager's POST /api/v2/alerts, BATCH alerts per request
-- (environment, default 1), each its own alert (a `seq` label unique across
-- threads), firing, severity critical. The bearer token is Herald's;
-- Alertmanager ignores it.
local batch = tonumber(os.getenv("BATCH") or "1")
local counter = 0
local threads_made = 0
setup = function(thread)
  thread:set("thread_number", threads_made)
  threads_made = threads_made + 1
end
request = function()
  local alerts = {}
  for i = 1, batch do
    counter = counter + 1
    alerts[i] = string.format('{"labels":{"alertname":"Bench","instance":"host-%d","severity":"critical","seq":"%d-%d"},'
      .. '"annotations":{"summary":"benchmark alert"}}', counter % 100, thread_number, counter)
  end
  return wrk.format("POST", "/api/v2/alerts", {["Authorization"] = "Bearer bench-token",
                                               ["Content-Type"] = "application/json"},
                    "[" .. table.concat(alerts, ",") .. "]")
end
