-- Writes a job's new fields if nobody changed it since it was read (compare-and-set on rev),
-- and on one Redis the queue entries and timers of the same step with it: a worker can claim
-- an entry only once its job names the delivery (on Cluster they live in other slots, so the
-- caller writes them around this script, redis_store.py). On one Redis it also removes the
-- lease entries the step ends that cannot wait (a type with max_in_flight, an attempt queued
-- again), and only if the write won: a write that did not land (a lost compare-and-set, or
-- NOSCRIPT after a Redis restart, with the process dying before it sends the step again)
-- must leave the lease for the sweep to expire, or the job would wait for a delivery that
-- nothing tracks any more.
-- KEYS[1] job hash, KEYS[2 .. 1+n] the zset of each entry (ready, delayed, timers, outbox),
-- KEYS[2+n .. 1+n+m] the leases zset of each lease entry removed,
-- KEYS[2+n+m] with ARGV[1] 'new': the client's job index
-- ARGV[1] expected rev ("0": the job must not exist yet; 'new': a job whose id was drawn for
--         this commit (a fresh UUID), so only this same commit run again (a retried
--         pipeline) can meet it: adding the id to the client's index (ZADD NX, a write the
--         create makes anyway) tells that apart, and the job is not read at all)
-- ARGV[2] seconds to keep the job: > 0 sets that expiry (terminal jobs), -1 removes an
--         expiry (a retried job), 0 leaves it alone
-- ARGV[3] channel told about the change when someone watches the job, ARGV[4] the job id
-- ARGV[5] n, ARGV[6] the channel of job ends: once written, the job id and every field name
--         and value are published there, joined by NUL (storage/end_message.py); '': nothing
-- ARGV[7] m, ARGV[8 .. 7+2n] score, member of each entry (entry i goes to KEYS[1+i])
-- ARGV[8+2n .. 7+2n+m] the lease entries removed (lease j from KEYS[1+n+j])
-- with 'new': ARGV[8+2n+m] the job's score in the client's index (creation time, ms)
-- then field, value pairs (they include the new rev)
-- Returns 1 when written, 0 when the rev did not match (then nothing is written or published).
local n, m = tonumber(ARGV[5]), tonumber(ARGV[7])
local first = 8 + 2 * n + m
local watched = false
if ARGV[1] == 'new' then
  -- nobody can watch a job before it exists (watch.lua), so there is nothing else to read
  if redis.call('ZADD', KEYS[2 + n + m], 'NX', ARGV[first], ARGV[4]) == 0 then
    return 0
  end
  first = first + 1
else
  local cur = redis.call('HMGET', KEYS[1], 'rev', 'watched')
  if (cur[1] or '0') ~= ARGV[1] then
    return 0
  end
  watched = cur[2] == '1'
end
redis.call('HSET', KEYS[1], unpack(ARGV, first))
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  redis.call('EXPIRE', KEYS[1], ttl)
elseif ttl < 0 then
  redis.call('PERSIST', KEYS[1])
end
for i = 1, n do
  redis.call('ZADD', KEYS[1 + i], ARGV[6 + 2 * i], ARGV[7 + 2 * i])
end
for j = 1, m do
  redis.call('ZREM', KEYS[1 + n + j], ARGV[7 + 2 * n + j])
end
if watched then
  redis.call('PUBLISH', ARGV[3], ARGV[4])
end
if ARGV[6] ~= '' then
  redis.call('PUBLISH', ARGV[6], ARGV[4] .. '\0' .. table.concat(ARGV, '\0', first))
end
return 1
