-- wrk request generator for resolve: cycles over 1000 client ids, so the sticky-bucket hash and
-- the JSON answer vary as they would across a fleet. wrk's own per-request cost stays in C.
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/v1/models/load/resolve?client=device-" .. (n % 1000))
end
