-- Puts back a claimed entry whose job is not yet at the revision that wants it (Cluster: a
-- commit's entry can be due before its job write lands), instead of dropping it; an entry
-- that has waited so for longer than ARGV[4] is stale after all and is dropped.
-- KEYS[1] leases zset, KEYS[2] the delayed zset of the entry's queue, KEYS[3] early zset
-- (entry → when first put back, ms)
-- ARGV[1] entry, ARGV[2] now (ms), ARGV[3] due again at (ms), ARGV[4] how long to wait (ms)
-- Returns 1 when put back, 0 when dropped. The caller only defers entries its claim added to
-- the leases.
local now, wait = tonumber(ARGV[2]), tonumber(ARGV[4])
redis.call('ZREM', KEYS[1], ARGV[1])
-- entries that were leased or dropped since leave the early set after a while
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - 2 * wait)
local first = tonumber(redis.call('ZSCORE', KEYS[3], ARGV[1]))
if first == nil then
  redis.call('ZADD', KEYS[3], now, ARGV[1])
elseif now - first > wait then
  redis.call('ZREM', KEYS[3], ARGV[1])
  return 0
end
redis.call('PEXPIRE', KEYS[3], 4 * wait)
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
