-- Takes the best entry of a ready queue and records it as leased until ARGV[1].
-- KEYS[1] ready zset, KEYS[2] leases zset
-- ARGV[1] lease deadline (epoch ms)
-- Returns {entry (job|task|attempt|priority), 1 if this call added it to the leases, else 0},
-- or false when the queue is empty. An entry already in the leases is a duplicate hint of a
-- delivery some worker may hold: its deadline is left alone (NX), and the caller must not
-- remove it if the entry turns out stale.
local r = redis.call('ZPOPMIN', KEYS[1])
if #r == 0 then
  return false
end
local added = redis.call('ZADD', KEYS[2], 'NX', ARGV[1], r[1])
return {r[1], added}
