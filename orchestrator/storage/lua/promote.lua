-- Moves delayed entries (backoff) whose time has come into the ready queue.
-- KEYS[1] delayed zset (score: ready at, ms), KEYS[2] ready zset
-- ARGV[1] now (ms), ARGV[2] limit
-- Returns how many entries moved.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
if #due == 0 then
  return 0
end
local args = {}
for i, m in ipairs(due) do
  -- the ready score orders by priority (last field, 0..9, higher first), then by time
  local prio = tonumber(string.match(m, '|(%d+)$')) or 0
  args[2 * i - 1] = (9 - prio) * 10000000000000 + tonumber(ARGV[1])
  args[2 * i] = m
end
redis.call('ZADD', KEYS[2], unpack(args))
redis.call('ZREM', KEYS[1], unpack(due))
return #due
