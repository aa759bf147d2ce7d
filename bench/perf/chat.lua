-- wrk script for the benchmark: POST /chat/completions with a JSON body.
--
--   wrk ... -s bench/perf/chat.lua <url> -- <mode> <nonce> <model> <api-key>
--
-- mode "fresh": every request has a distinct prompt (nonce, thread and a counter in it), so a
--               gateway's exact cache always misses (lookup + store are still exercised).
-- mode "same":  every request has the identical body, so after the first one it is an exact-cache hit.
-- Both use "temperature": 0, the condition for NextModel's exact cache.
--
-- Every response is classified by its x-nextmodel-served-mode and x-nextmodel-cache-status
-- headers and its status code; done() prints one line `WRKJSON {...}` with wrk's summary, the
-- latency percentiles (microseconds) and those counts, for bench/perf/run.py to parse.

local threads = {}

function setup(thread)
   thread:set("tid", #threads + 1)
   table.insert(threads, thread)
end

-- per-thread globals (read back in done() through thread:get)
n_fresh, n_cache, n_other_mode, n_no_mode = 0, 0, 0, 0
n_status_other, n_hit, n_miss = 0, 0, 0
local counter = 0
local mode, nonce, model, fixed

function init(args)
   mode = args[1] or "fresh"
   nonce = args[2] or "0"
   model = args[3] or "gpt-4o-mini"
   local key = args[4] or ""
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   if key ~= "" then
      wrk.headers["Authorization"] = "Bearer " .. key
   end
   if mode == "same" then
      fixed = wrk.format(nil, nil, nil, string.format(
         '{"model":"%s","temperature":0,"messages":[{"role":"user","content":"Benchmark exact-cache prompt %s: what is a gateway?"}]}',
         model, nonce))
   end
end

function request()
   if fixed then
      return fixed
   end
   counter = counter + 1
   return wrk.format(nil, nil, nil, string.format(
      '{"model":"%s","temperature":0,"messages":[{"role":"user","content":"Benchmark fresh prompt %s-%d-%d: what is a gateway?"}]}',
      model, nonce, tid, counter))
end

function response(status, headers, body)
   if status ~= 200 then
      n_status_other = n_status_other + 1
   end
   local served = headers["x-nextmodel-served-mode"] or headers["X-Nextmodel-Served-Mode"]
   if served == nil then
      n_no_mode = n_no_mode + 1
   elseif served == "fresh" then
      n_fresh = n_fresh + 1
   elseif served == "exact_cache" then
      n_cache = n_cache + 1
   else
      n_other_mode = n_other_mode + 1
   end
   local cache = headers["x-nextmodel-cache-status"] or headers["X-Nextmodel-Cache-Status"]
   if cache == "hit" then
      n_hit = n_hit + 1
   elseif cache == "miss" then
      n_miss = n_miss + 1
   end
end

function done(summary, latency, requests)
   local counts = {fresh = 0, exact_cache = 0, other_mode = 0, no_mode_header = 0, non_200 = 0,
                   cache_status_hit = 0, cache_status_miss = 0}
   for _, thread in ipairs(threads) do
      counts.fresh = counts.fresh + thread:get("n_fresh")
      counts.exact_cache = counts.exact_cache + thread:get("n_cache")
      counts.other_mode = counts.other_mode + thread:get("n_other_mode")
      counts.no_mode_header = counts.no_mode_header + thread:get("n_no_mode")
      counts.non_200 = counts.non_200 + thread:get("n_status_other")
      counts.cache_status_hit = counts.cache_status_hit + thread:get("n_hit")
      counts.cache_status_miss = counts.cache_status_miss + thread:get("n_miss")
   end
   local e = summary.errors
   local parts = {
      string.format('"duration_us":%d', summary.duration),
      string.format('"requests":%d', summary.requests),
      string.format('"bytes":%d', summary.bytes),
      string.format('"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}',
                    e.connect, e.read, e.write, e.status, e.timeout),
      string.format('"latency_us":{"min":%d,"mean":%.1f,"max":%d,"stdev":%.1f,"p50":%d,"p75":%d,"p90":%d,"p99":%d,"p999":%d}',
                    latency.min, latency.mean, latency.max, latency.stdev,
                    latency:percentile(50), latency:percentile(75), latency:percentile(90),
                    latency:percentile(99), latency:percentile(99.9)),
   }
   local c = {}
   for k, v in pairs(counts) do
      table.insert(c, string.format('"%s":%d', k, v))
   end
   table.insert(parts, '"responses":{' .. table.concat(c, ",") .. '}')
   io.write("WRKJSON {" .. table.concat(parts, ",") .. "}\n")
end
