-- Takes the best entry of a task type's ready queues and records it as leased until ARGV[1],
-- if the type's limits allow one more delivery.
-- KEYS[1] ready zset of the type's tasks without requirements, KEYS[2] leases zset (the
-- type's deliveries in flight), KEYS[3 .. 2+n] ready zsets of the requirement sets the worker
-- meets, KEYS[3+n] the type's token bucket (only with a rate)
-- ARGV[1] lease deadline (epoch ms), ARGV[2] n, ARGV[3] max in flight (0: no limit),
-- ARGV[4] tokens a second (0: no limit), ARGV[5] bucket size, ARGV[6] now (epoch ms)
-- Returns {entry (job|task|attempt|priority), 1 if this call added it to the leases, else 0};
-- false when every queue is empty; {'', 0, 1, 0} at max in flight; {'', 0, 2, ms until a
-- token is there} at max per second. Over a limit nothing is popped: the queues keep their
-- order. An entry already in the leases is a duplicate hint of a delivery some worker may
-- hold: its deadline is left alone (NX), and the caller must not remove it if the entry turns
-- out stale.
local n = tonumber(ARGV[2]) or 0
local max_in_flight = tonumber(ARGV[3]) or 0
local rate = tonumber(ARGV[4]) or 0
local source = KEYS[1]
if n > 0 then
  -- the best head across the queues: a score orders by priority, then by ready time
  local best = nil
  for i = 1, n + 2 do
    if i ~= 2 then
      local head = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
      if head[2] and (best == nil or tonumber(head[2]) < best) then
        best = tonumber(head[2])
        source = KEYS[i]
      end
    end
  end
  if best == nil then
    return false
  end
elseif (max_in_flight > 0 or rate > 0) and redis.call('ZCARD', KEYS[1]) == 0 then
  return false
end
if max_in_flight > 0 and redis.call('ZCARD', KEYS[2]) >= max_in_flight then
  return {'', 0, 1, 0}
end
if rate > 0 then
  local bucket = KEYS[n + 3]
  local now = tonumber(ARGV[6])
  local burst = tonumber(ARGV[5])
  local f = redis.call('HMGET', bucket, 'tokens', 'ts')
  local tokens = tonumber(f[1]) or burst
  local ts = tonumber(f[2]) or now
  -- processes' clocks differ a little: the bucket's clock never goes back
  if now > ts then
    tokens = math.min(burst, tokens + (now - ts) * rate / 1000)
    ts = now
  end
  if tokens < 1 then
    return {'', 0, 2, math.ceil((1 - tokens) * 1000 / rate)}
  end
  tokens = tokens - 1
  redis.call('HSET', bucket, 'tokens', tostring(tokens), 'ts', tostring(ts))
  -- once full again an idle bucket is the same as no bucket: let it go
  redis.call('PEXPIRE', bucket, math.ceil((burst - tokens) * 1000 / rate) + 1000)
end
local r = redis.call('ZPOPMIN', source)
if #r == 0 then
  return false
end
local added = redis.call('ZADD', KEYS[2], 'NX', ARGV[1], r[1])
return {r[1], added}
