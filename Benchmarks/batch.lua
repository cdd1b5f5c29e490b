-- wrk script: batches of 100 events per request, each event its own id and object.
local counter = 0
local thread_id = 0
setup = function(thread)
  thread:set("thread_id", thread_id)
  thread_id = thread_id + 1
end
request = function()
  local events = {}
  for i = 1, 100 do
    counter = counter + 1
    local id = string.format("b%d-%d", thread_id, counter)
    events[i] = '{"id":"' .. id .. '","name":"Bench","level":"Critical","object_id":"' .. id .. '"}'
  end
  return wrk.format("POST", "/api/v1/events", {["Authorization"] = "Bearer bench-token",
                                               ["Content-Type"] = "application/json"},
                    '{"events":[' .. table.concat(events, ",") .. ']}')
end
