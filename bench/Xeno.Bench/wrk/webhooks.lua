-- wrk script of the webhook intake benchmark (bench/README.md): signed orders/create deliveries.
-- The bench precomputes the bodies and their HMACs (one "hmac<TAB>body" line each) so that wrk, which shares the
-- machine's two cores with Xeno and PostgreSQL, only cycles through them; every request gets its own
-- X-Shopify-Webhook-Id and X-Shopify-Event-Id (headers are not signed), so every delivery is new to Xeno.
-- Arguments (after --): requests file, shop domain, a tag unique to this run.
local counter = 0
local thread_count = 0

function setup(thread)
   thread_count = thread_count + 1
   thread:set("tid", thread_count)
end

function init(args)
   local path, domain, tag = args[1], args[2], args[3]
   hmacs, bodies = {}, {}
   for line in io.lines(path) do
      local tab = string.find(line, "\t", 1, true)
      hmacs[#hmacs + 1] = string.sub(line, 1, tab - 1)
      bodies[#bodies + 1] = string.sub(line, tab + 1)
   end
   n = #bodies
   prefix = tag .. "-" .. tostring(tid) .. "-"
   headers = {
      ["Content-Type"] = "application/json",
      ["X-Shopify-Topic"] = "orders/create",
      ["X-Shopify-Shop-Domain"] = domain,
      ["X-Shopify-API-Version"] = "2026-10",
   }
end

function request()
   counter = counter + 1
   local k = (counter - 1) % n + 1
   local id = prefix .. counter
   headers["X-Shopify-Hmac-Sha256"] = hmacs[k]
   headers["X-Shopify-Webhook-Id"] = "w-" .. id
   headers["X-Shopify-Event-Id"] = "e-" .. id
   return wrk.format("POST", "/webhooks/shopify", headers, bodies[k])
end

function done(summary, latency, requests)
   io.write(string.format(
      'BENCH {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
      summary.requests, summary.duration, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status,
      summary.errors.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
