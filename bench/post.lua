-- wrk body script: sends the file $WRK_BODY_FILE with $WRK_METHOD (default
-- POST), JSON content type and the Bearer key $WRK_KEY, on keep-alive.
local f = assert(io.open(os.getenv("WRK_BODY_FILE"), "rb"))
wrk.body = f:read("*a")
f:close()
wrk.method = os.getenv("WRK_METHOD") or "POST"
wrk.headers["Content-Type"] = os.getenv("WRK_CONTENT_TYPE") or "application/json"
local key = os.getenv("WRK_KEY")
if key and key ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. key
end

local codes = {}
response = function(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
end

done = function(summary, latency, requests)
  -- response() runs in each thread's own Lua state; the summary's error
  -- counts are what is shared: non-2xx answers must be zero.
  io.write(string.format("non-2xx/3xx: %d\n", summary.errors.status))
end
