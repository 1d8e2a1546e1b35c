-- wrk script of the console's load benchmark: each request takes the next session cookie of
-- the list (so the connections' requests spread over all sessions) and a page of the mix.
-- Environment: HN_COOKIES (file, one "name=value" per line), HN_MIX (queue | mixed),
-- HN_INCIDENTS (highest incident id). Answers other than 2xx/3xx are counted by wrk itself.
local cookies, n = {}, 0
local mix = os.getenv("HN_MIX") or "mixed"
local top = tonumber(os.getenv("HN_INCIDENTS") or "10000")
local queues = {
  "/incidents", "/incidents?page=2", "/incidents?page=20", "/incidents?priority=P1",
  "/incidents?status=all", "/incidents?q=10.20.1", "/incidents?class=malicious-code%2Fmalware-distribution",
  "/incidents?segment=members&page=3",
}

function init(args)
  for line in io.lines(os.getenv("HN_COOKIES")) do cookies[#cookies + 1] = line end
  math.randomseed(id or 1)
end

function setup(thread)
  thread:set("id", math.random(1, 1000000))
end

function request()
  n = n + 1
  local cookie = cookies[(n % #cookies) + 1]
  local path
  if mix == "queue" or n % 2 == 0 then
    path = queues[math.floor(n / 2) % #queues + 1]
  else
    path = "/incidents/" .. math.random(1, top)
  end
  return wrk.format("GET", path, { ["Cookie"] = cookie })
end
