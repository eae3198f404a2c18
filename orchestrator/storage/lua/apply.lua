-- Writes a job's new fields if nobody changed it since it was read (compare-and-set on rev),
-- and on one Redis the queue entries and timers of the same step with it: a worker can claim
-- an entry only once its job names the delivery (on Cluster they live in other slots, so the
-- caller writes them around this script, redis_store.py).
-- KEYS[1] job hash, KEYS[2 .. 1+n] the zset of each entry (ready, delayed, timers, outbox)
-- ARGV[1] expected rev ("0": the job must not exist yet)
-- ARGV[2] seconds to keep the job: > 0 sets that expiry (terminal jobs), -1 removes an
--         expiry (a retried job), 0 leaves it alone
-- ARGV[3] channel told about the change when someone watches the job, ARGV[4] the job id
-- ARGV[5] n, ARGV[6 .. 5+2n] score, member of each entry (entry i goes to KEYS[1+i])
-- ARGV[6+2n ..] field, value pairs (they include the new rev)
-- Returns 1 when written, 0 when the rev did not match (then no entry is written either).
local cur = redis.call('HMGET', KEYS[1], 'rev', 'watched')
if (cur[1] or '0') ~= ARGV[1] then
  return 0
end
local n = tonumber(ARGV[5])
redis.call('HSET', KEYS[1], unpack(ARGV, 6 + 2 * n))
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  redis.call('EXPIRE', KEYS[1], ttl)
elseif ttl < 0 then
  redis.call('PERSIST', KEYS[1])
end
for i = 1, n do
  redis.call('ZADD', KEYS[1 + i], ARGV[4 + 2 * i], ARGV[5 + 2 * i])
end
if cur[2] == '1' then
  redis.call('PUBLISH', ARGV[3], ARGV[4])
end
return 1
