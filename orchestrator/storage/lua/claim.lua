-- Takes the best entry of a ready queue and records it as leased until ARGV[1].
-- KEYS[1] ready zset, KEYS[2] leases zset
-- ARGV[1] lease deadline (epoch ms)
-- Returns the entry (job|task|attempt|priority) or false when the queue is empty.
local r = redis.call('ZPOPMIN', KEYS[1])
if #r == 0 then
  return false
end
redis.call('ZADD', KEYS[2], ARGV[1], r[1])
return r[1]
