-- Scenario c: POST /obj-0, /obj-1, ... /obj-999, /obj-0, ... (1,000 objects in rotation).
wrk.method = "POST"
local i = 0
request = function()
  local path = "/obj-" .. i
  i = (i + 1) % 1000
  return wrk.format(nil, path)
end
