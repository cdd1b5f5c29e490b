-- wrk script: BATCH events per request (environment, default 1), each with
-- its own id and object; one event is sent bare, more as {"events":[...]}.
local batch = tonumber(os.getenv("BATCH") or "1")
local counter = 0
local threads_made = 0
-- setup runs in the main Lua state; `thread:set` makes a global in each
-- thread's own state, which `request` reads (a local would not be shared).
setup = function(thread)
  thread:set("thread_number", threads_made)
  threads_made = threads_made + 1
end
request = function()
  local events = {}
  for i = 1, batch do
    counter = counter + 1
    local id = string.format("w%d-%d-%d", batch, thread_number, counter)
    events[i] = '{"id":"' .. id .. '","name":"Bench","level":"Critical","object_id":"' .. id .. '"}'
  end
  local body = batch == 1 and events[1] or ('{"events":[' .. table.concat(events, ",") .. ']}')
  return wrk.format("POST", "/api/v1/events", {["Authorization"] = "Bearer bench-token",
                                               ["Content-Type"] = "application/json"}, body)
end
