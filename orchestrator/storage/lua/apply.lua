-- Writes a job's new fields if nobody changed it since it was read (compare-and-set on rev).
-- KEYS[1] job hash
-- ARGV[1] expected rev ("0": the job must not exist yet)
-- ARGV[2] seconds to keep the job (0: no expiry; terminal jobs get the retention)
-- ARGV[3..] field, value pairs (they include the new rev)
-- Returns 1 when written, 0 when the rev did not match.
local cur = redis.call('HGET', KEYS[1], 'rev')
if (cur or '0') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
if tonumber(ARGV[2]) > 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 1
