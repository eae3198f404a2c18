-- Takes the best entry of a task type's ready queues and records it as leased until deadline,
-- if the type's limits allow one more delivery.
-- keys[1] ready zset of the type's tasks without requirements, keys[2] leases zset (the
-- type's deliveries in flight), keys[3 .. 2+n] ready zsets of the requirement sets the worker
-- meets, keys[3+n] the type's token bucket (only with a rate)
-- deadline: lease deadline (epoch ms), max_in_flight (0: no limit), rate: tokens a second (0:
-- no limit), burst: bucket size, now (epoch ms)
-- Returns {entry (job|task|attempt|priority), 1 if this call added it to the leases, else 0,
-- the ready zset it came from};
-- false when every queue is empty; {'', 0, 1, 0} at max in flight; {'', 0, 2, ms until a
-- token is there} at max per second. Over a limit nothing is popped: the queues keep their
-- order. An entry already in the leases is a duplicate hint of a delivery some worker may
-- hold: its deadline is left alone (NX), and the caller must not remove it if the entry turns
-- out stale.
local function claim_entry(keys, deadline, n, max_in_flight, rate, burst, now)
  local source = keys[1]
  if n > 0 then
    -- the best head across the queues: a score orders by priority, then by ready time
    local best = nil
    for i = 1, n + 2 do
      if i ~= 2 then
        local head = redis.call('ZRANGE', keys[i], 0, 0, 'WITHSCORES')
        if head[2] and (best == nil or tonumber(head[2]) < best) then
          best = tonumber(head[2])
          source = keys[i]
        end
      end
    end
    if best == nil then
      return false
    end
  elseif (max_in_flight > 0 or rate > 0) and redis.call('ZCARD', keys[1]) == 0 then
    return false
  end
  if max_in_flight > 0 and redis.call('ZCARD', keys[2]) >= max_in_flight then
    return {'', 0, 1, 0}
  end
  if rate > 0 then
    local bucket = keys[n + 3]
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
  local added = redis.call('ZADD', keys[2], 'NX', deadline, r[1])
  return {r[1], added, source}
end
