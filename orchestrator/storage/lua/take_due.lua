-- Returns members of a deadline zset that are due and pushes them ARGV[3] ms ahead, so that
-- another process does not take them too; the caller removes or re-arms each one when done,
-- and a caller that dies leaves them to fire again.
-- KEYS[1] zset (score: due time, epoch ms)
-- ARGV[1] now (ms), ARGV[2] limit, ARGV[3] visibility (ms)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
if #due == 0 then
  return due
end
local later = tonumber(ARGV[1]) + tonumber(ARGV[3])
local args = {}
for i, m in ipairs(due) do
  args[2 * i - 1] = later
  args[2 * i] = m
end
redis.call('ZADD', KEYS[1], 'XX', unpack(args))
return due
