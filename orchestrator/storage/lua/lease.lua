-- Hands the job's current task to a worker, if the claimed queue entry is still current.
-- KEYS[1] job hash
-- ARGV[1] task id, ARGV[2] attempt, ARGV[3] worker id, ARGV[4] now (epoch seconds)
-- Returns the task payload (JSON) or false when the entry was stale.
local f = redis.call('HMGET', KEYS[1], 't_id', 't_att', 't_status', 'rev', 't_payload')
if f[1] ~= ARGV[1] or f[2] ~= ARGV[2] or f[3] ~= 'queued' then
  return false
end
redis.call('HSET', KEYS[1], 't_status', 'leased', 't_worker', ARGV[3], 't_leased', ARGV[4],
  'rev', tostring(tonumber(f[4]) + 1))
return f[5]
