-- Alert load for bench/alerts.py. Each request carries $BATCH alerts; $NEW_PCT % of them
-- are new identities (never sent before in this run: thread + $RUN_ID + a counter), the
-- rest repeat one of $REPEAT_SET fixed identities. $FORMAT:
--   webhook  an Alertmanager v4 webhook (what Alertmanager sends us), POSTed to $POST_PATH
--            with $AUTH_HEADER;
--   amapi    Alertmanager's own API body (a list of alerts), POSTed to /api/v2/alerts.
-- done() prints one line "RESULT {json}" with the latency distribution (p50..p99, max).
local batch = tonumber(os.getenv("BATCH") or "100")
local new_pct = tonumber(os.getenv("NEW_PCT") or "10")
local repeat_set = tonumber(os.getenv("REPEAT_SET") or "1000")
local run = tonumber(os.getenv("RUN_ID") or "1")
local format = os.getenv("FORMAT") or "webhook"
local path = os.getenv("POST_PATH") or "/api/v2/alerts"
local headers = { ["Content-Type"] = "application/json" }
local ah = os.getenv("AUTH_HEADER")
if ah and #ah > 0 then local k, v = ah:match("^([^:]+):%s*(.*)$"); headers[k] = v end

local counter = 0
function setup(thread) counter = counter + 1; thread:set("tid", counter) end

local seq, picks = 0, 0
function init(args) math.randomseed(run * 7919 + (tid or 0)) end

-- Every 100 alerts hold exactly NEW_PCT new ones, spread evenly, so a batch of 1 and a
-- batch of 100 see the same mix.
local function next_identity()
  picks = picks + 1
  if (picks * new_pct) % 100 < new_pct then
    seq = seq + 1
    return string.format("%02x%06x%08x", tid % 256, run % 0x1000000, seq), "n" .. tid .. "-" .. seq
  end
  local r = math.random(repeat_set)
  return string.format("ff%014x", r), "r" .. r
end

local function labels(id)
  local n = #id
  local job = "erp-job-" .. string.byte(id, n) % 10
  return string.format('{"alertname":"ErpBenchAlert","severity":"warning","customer":"bench",' ..
    '"job":"%s","instance":"erp-%s"}', job, id)
end

local SUMMARY = '"annotations":{"summary":"MRP run fails with lock timeout / 凭证无法保存"}'

function request()
  local parts = {}
  local now = os.date("!%Y-%m-%dT%H:%M:%SZ")
  for i = 1, batch do
    local fp, id = next_identity()
    if format == "webhook" then
      parts[i] = string.format('{"status":"firing","labels":%s,%s,"startsAt":"%s",' ..
        '"endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://127.0.0.1/graph","fingerprint":"%s"}',
        labels(id), SUMMARY, now, fp)
    else
      parts[i] = string.format('{"labels":%s,%s,"generatorURL":"http://127.0.0.1/graph"}',
        labels(id), SUMMARY)
    end
  end
  local body
  if format == "webhook" then
    body = '{"receiver":"erpcare","status":"firing","alerts":[' .. table.concat(parts, ",") ..
      '],"groupLabels":{"alertname":"ErpBenchAlert"},"commonLabels":{"alertname":"ErpBenchAlert",' ..
      '"customer":"bench"},"commonAnnotations":{},"externalURL":"http://127.0.0.1:9093",' ..
      '"version":"4","groupKey":"{}:{alertname=\\"ErpBenchAlert\\"}","truncatedAlerts":0}'
  else
    body = "[" .. table.concat(parts, ",") .. "]"
  end
  return wrk.format("POST", path, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  local function p(q) if summary.requests > 0 then return latency:percentile(q) else return -1 end end
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"err_connect":%d,"err_read":%d,' ..
    '"err_write":%d,"err_status":%d,"err_timeout":%d,"lat_p50_us":%d,"lat_p90_us":%d,' ..
    '"lat_p95_us":%d,"lat_p99_us":%d,"lat_max_us":%d,"lat_mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, p(50), p(90), p(95), p(99), (summary.requests > 0) and latency.max or -1,
    (summary.requests > 0) and latency.mean or -1))
end
