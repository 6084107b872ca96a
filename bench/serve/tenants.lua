-- wrk script for bench/serve-load.sh: every request is a call of the secrets plugin by one of
-- TENANTS tenants (round robin from a per-thread offset), whose input is "tID:SECRET". Each
-- response must be "SECRET-OF-ITS-TENANT|INPUT": a response carrying another tenant's secret
-- counts as a leak. At the end each thread's counts are summed and printed.
local tenants = tonumber(os.getenv("TENANTS") or "1000")
local threads = {}
-- Globals, not locals: thread:get() reads a thread's globals.
counter, leaks, bad_status, checked = 0, 0, 0, 0

local function secret(i) return "t" .. i .. ":" .. ((i * 2654435761) % 1000003) end

function setup(thread)
  thread:set("offset", #threads * 7919)
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  local i = (counter + offset) % tenants
  local body = secret(i)
  return wrk.format("POST", "/v1/plugins/secrets/call/check",
                    {["X-Tenant-Id"] = "tenant-" .. i, ["Content-Type"] = "text/plain"}, body)
end

function response(status, headers, body)
  if status ~= 200 then
    bad_status = bad_status + 1
    return
  end
  local stored, input = body:match("^(.-)|(.*)$")
  local id = input and input:match("^t(%d+):")
  if not id or stored ~= secret(tonumber(id)) or input ~= secret(tonumber(id)) then
    leaks = leaks + 1
  end
  checked = checked + 1
end

function done(summary, latency, requests)
  local l, b, c = 0, 0, 0
  for _, t in ipairs(threads) do
    l = l + t:get("leaks")
    b = b + t:get("bad_status")
    c = c + t:get("checked")
  end
  io.write(string.format("checked %d responses: %d carried another tenant's secret, %d not 200\n",
                         c, l, b))
  io.write(string.format("latency p50 %.2f ms, p99 %.2f ms, max %.2f ms; %.0f requests/s\n",
                         latency:percentile(50) / 1000, latency:percentile(99) / 1000,
                         latency.max / 1000, summary.requests / (summary.duration / 1e6)))
end
