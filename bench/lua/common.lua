-- Shared helpers of the ERPCare wrk scripts (bench/lua/*.lua).
--   env LUA_DIR      this directory (so the scripts can dofile() this file)
--   env AUTH         the full Authorization header value, e.g. "Bearer erc_..."
--   env SEED         base seed of each thread's random generator (default 1)
-- done() prints one line "BENCH {json}" with counts and latency percentiles (µs).
local M = {}

M.threads = {}
local counter = 0

function M.setup(thread)
  counter = counter + 1
  thread:set("thread_index", counter)
  table.insert(M.threads, thread)
end

function M.read_lines(path)
  local lines = {}
  local f = assert(io.open(path, "r"), "cannot open " .. tostring(path))
  for line in f:lines() do
    if line ~= "" then lines[#lines + 1] = line end
  end
  f:close()
  assert(#lines > 0, "no lines in " .. path)
  return lines
end

function M.headers(extra)
  local h = { ["Accept"] = "application/json" }
  local auth = os.getenv("AUTH")
  if auth and auth ~= "" then h["Authorization"] = auth end
  for k, v in pairs(extra or {}) do h[k] = v end
  return h
end

-- Per-thread counters; read back in done() through thread:get().
non2xx = 0
first_bad = ""

function M.response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_bad == "" then
      first_bad = tostring(status) .. " " .. string.sub(body or "", 1, 200)
    end
  end
end

local function esc(s)
  return (string.gsub(s, '[%c"\\]', function(c)
    return string.format("\\u%04x", string.byte(c))
  end))
end

function M.done(summary, latency, requests)
  local non2xx_total, bad = 0, ""
  for _, t in ipairs(M.threads) do
    non2xx_total = non2xx_total + (t:get("non2xx") or 0)
    local fb = t:get("first_bad") or ""
    if bad == "" and fb ~= "" then bad = fb end
  end
  local e = summary.errors
  local function pct(q)
    if summary.requests > 0 then return latency:percentile(q) end
    return -1
  end
  local fields = {
    string.format('"requests":%d', summary.requests),
    string.format('"duration_us":%d', summary.duration),
    string.format('"bytes":%d', summary.bytes),
    string.format('"err_connect":%d', e.connect),
    string.format('"err_read":%d', e.read),
    string.format('"err_write":%d', e.write),
    string.format('"err_status":%d', e.status),
    string.format('"err_timeout":%d', e.timeout),
    string.format('"non2xx":%d', non2xx_total),
    string.format('"lat_p50_us":%d', pct(50)),
    string.format('"lat_p90_us":%d', pct(90)),
    string.format('"lat_p99_us":%d', pct(99)),
    string.format('"lat_max_us":%d', summary.requests > 0 and latency.max or -1),
    string.format('"lat_mean_us":%d', summary.requests > 0 and latency.mean or -1),
    string.format('"first_bad":"%s"', esc(bad)),
  }
  io.write("BENCH {" .. table.concat(fields, ",") .. "}\n")
end

return M
