-- Moves delayed entries (backoff) whose time has come into their ready queues.
-- KEYS[2i-1] a delayed zset (score: ready at, ms), KEYS[2i] its ready zset: one pair per queue
-- of a task type (the type's own, then one per requirement set)
-- ARGV[1] now (ms), ARGV[2] limit (per queue)
-- Returns how many entries moved, one count per pair.
local moved = {}
for q = 1, #KEYS / 2 do
  local delayed, ready = KEYS[2 * q - 1], KEYS[2 * q]
  local due = redis.call('ZRANGEBYSCORE', delayed, '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
  moved[q] = #due
  if #due > 0 then
    local args = {}
    for i, m in ipairs(due) do
      -- the ready score orders by priority (last field, 0..9, higher first), then by time
      local prio = tonumber(string.match(m, '|(%d+)$')) or 0
      args[2 * i - 1] = (9 - prio) * 10000000000000 + tonumber(ARGV[1])
      args[2 * i] = m
    end
    redis.call('ZADD', ready, unpack(args))
    redis.call('ZREM', delayed, unpack(due))
  end
end
return moved
