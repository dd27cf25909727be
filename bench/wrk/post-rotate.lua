-- Scenario c: POST /obj-0, /obj-1, ... /obj-999, /obj-0, ... (1,000 objects in rotation;
-- BENCH_OBJECTS changes the count).
wrk.method = "POST"
local count = tonumber(os.getenv("BENCH_OBJECTS") or "1000")
local i = 0
request = function()
  local path = "/obj-" .. i
  i = (i + 1) % count
  return wrk.format(nil, path)
end
