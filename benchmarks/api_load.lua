-- wrk script of benchmarks/api_load.py: replays pre-signed vehicle update checks, each exactly once.
--
-- wrk -s benchmarks/api_load.lua URL -- FOLDER TARGET
--   FOLDER/requests-<thread>.txt: one pre-signed request a line, "PATH VIN TIMESTAMP NONCE SIGNATURE";
--   TARGET: answers each thread waits for before it stops (the file holds TARGET + connections lines,
--   so a connection still in flight when the target is reached sends a request of its own, never a replay).
-- Each thread writes FOLDER/done-<thread> with its first-send and last-answer times (monotonic µs) and
-- its counts when it stops; the driver then interrupts wrk (whose main thread sleeps the whole -d) and
-- reads the JSON line done() prints.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } evp_timespec;
int clock_gettime(int clock, evp_timespec *tp);
]]
local clock = ffi.new("evp_timespec")
local function now_us()
  ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000000 + math.floor(tonumber(clock.tv_nsec) / 1000)
end

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  folder = args[1]
  target = tonumber(args[2])
  prepared = {}
  for line in io.lines(folder .. "/requests-" .. id .. ".txt") do
    local path, vin, stamp, nonce, signature = line:match("^(%S+) (%S+) (%S+) (%S+) (%S+)$")
    prepared[#prepared + 1] = wrk.format("POST", path, {
      ["X-Vehicle-VIN"] = vin, ["X-Vehicle-Timestamp"] = stamp, ["X-Vehicle-Nonce"] = nonce,
      ["X-Vehicle-Signature"] = signature, ["Content-Length"] = "0",
    }, nil)
  end
  sent, answered, ok, first_us, last_us = 0, 0, 0, 0, 0
  statuses = {}
end

function request()
  sent = sent + 1
  if sent == 1 then first_us = now_us() end
  return prepared[math.min(sent, #prepared)]
end

function response(status, headers, body)
  answered = answered + 1
  if status == 200 then ok = ok + 1 else statuses[status] = (statuses[status] or 0) + 1 end
  if answered == target then
    last_us = now_us()
    local other = ""
    for code, count in pairs(statuses) do other = other .. code .. ":" .. count .. "," end
    local mark = io.open(folder .. "/done-" .. id, "w")
    mark:write(string.format("%d %d %d %d %d %s\n", first_us, last_us, sent, answered, ok, other))
    mark:close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  io.write(string.format(
    'WRK {"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "wrk_requests": %d, ' ..
    '"errors_connect": %d, "errors_read": %d, "errors_write": %d, "errors_timeout": %d}\n',
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, summary.requests,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
end
