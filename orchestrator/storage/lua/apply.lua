-- Writes a job's new fields if nobody changed it since it was read (compare-and-set on rev).
-- KEYS[1] job hash
-- ARGV[1] expected rev ("0": the job must not exist yet)
-- ARGV[2] seconds to keep the job: > 0 sets that expiry (terminal jobs), -1 removes an
--         expiry (a retried job), 0 leaves it alone
-- ARGV[3] channel told about the change when someone watches the job, ARGV[4] the job id
-- ARGV[5..] field, value pairs (they include the new rev)
-- Returns 1 when written, 0 when the rev did not match.
local cur = redis.call('HMGET', KEYS[1], 'rev', 'watched')
if (cur[1] or '0') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  redis.call('EXPIRE', KEYS[1], ttl)
elseif ttl < 0 then
  redis.call('PERSIST', KEYS[1])
end
if cur[2] == '1' then
  redis.call('PUBLISH', ARGV[3], ARGV[4])
end
return 1
