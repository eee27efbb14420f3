-- wrk script of the ingest benchmark: POSTs `supervision.task.progress_reported` CloudEvents of
-- unit `justice`, one per request (structured mode) or a batch per request, each with a new id,
-- and stops by itself once `budget` requests have been answered (wrk's -d bounds the time).
--
--   wrk -t1 -c16 -d30s --timeout 10s -s bench/load.lua http://127.0.0.1:19001/v1/events \
--       -- <events per request> <budget> <run id> <api key> <task id>,<task id>,...
--
-- Run it with one thread (-t1): the budget and the ids are per thread. At the end it prints one
-- JSON line: answers by HTTP status, the wall time from the first request to the last answer,
-- and wrk's latency percentiles (ms).

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *tp);
int getpid(void);
int kill(int pid, int sig);
]])
local CLOCK_MONOTONIC, SIGINT = 1, 2
local timespec = ffi.new("bench_timespec")

local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) * 1e-9
end

local NOTE = "基准测试：进展顺利，按计划推进"
local EVENT = '{"specversion":"1.0","id":"bench-%s-%07d","source":"/units/justice",'
  .. '"type":"supervision.task.progress_reported","subject":"%s","time":"%s",'
  .. '"datacontenttype":"application/json","data":{"task_id":"%s","unit":"justice",'
  .. '"progress_pct":%d,"note":"%s","reported_at":"%s"}}'

local per_request, budget, run, subjects
local sent = 0
local stopping = false

-- read by done() through thread:get, so globals
answered, first_at, last_at = 0, nil, nil
statuses = {}

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function init(args)
  per_request, budget, run = tonumber(args[1]), tonumber(args[2]), args[3]
  subjects = {}
  for subject in string.gmatch(args[5], "[^,]+") do
    subjects[#subjects + 1] = subject
  end
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. args[4]
  if per_request > 1 then
    wrk.headers["Content-Type"] = "application/cloudevents-batch+json"
  else
    wrk.headers["Content-Type"] = "application/cloudevents+json"
  end
end

local function event(time)
  sent = sent + 1
  local subject = subjects[(sent - 1) % #subjects + 1]
  return string.format(EVENT, run, sent, subject, time, subject, sent % 101, NOTE, time)
end

function request()
  if first_at == nil then
    first_at = now()
  end
  local time = os.date("!%Y-%m-%dT%H:%M:%SZ")
  local body
  if per_request > 1 then
    local events = {}
    for i = 1, per_request do
      events[i] = event(time)
    end
    body = "[" .. table.concat(events, ",") .. "]"
  else
    body = event(time)
  end
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  answered = answered + 1
  last_at = now()
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if answered >= budget and not stopping then
    stopping = true
    wrk.thread:stop()
    ffi.C.kill(ffi.C.getpid(), SIGINT) -- wakes wrk's main thread, which sleeps for all of -d
  end
end

function done(summary, latency, requests)
  local thread = threads[1]
  local counts = {}
  for status, count in pairs(thread:get("statuses")) do
    counts[#counts + 1] = string.format('"%s":%d', status, count)
  end
  local first, last = thread:get("first_at"), thread:get("last_at")
  local wall = (first and last) and (last - first) or 0
  local errors = summary.errors
  io.write(string.format(
    '{"answered":%d,"statuses":{%s},"wall_s":%.4f,"wrk_duration_s":%.4f,'
      .. '"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},'
      .. '"latency_ms":{"p50":%.2f,"p90":%.2f,"p99":%.2f,"max":%.2f}}\n',
    thread:get("answered"), table.concat(counts, ","), wall, summary.duration / 1e6,
    errors.connect, errors.read, errors.write, errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000
  ))
end
