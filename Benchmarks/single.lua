-- wrk script: one event per request, each with its own id and object.
local counter = 0
local thread_id = 0
setup = function(thread)
  thread:set("thread_id", thread_id)
  thread_id = thread_id + 1
end
request = function()
  counter = counter + 1
  local id = string.format("w%d-%d", thread_id, counter)
  local body = '{"id":"' .. id .. '","name":"Bench","level":"Critical","object_id":"' .. id .. '"}'
  return wrk.format("POST", "/api/v1/events", {["Authorization"] = "Bearer bench-token",
                                               ["Content-Type"] = "application/json"}, body)
end
