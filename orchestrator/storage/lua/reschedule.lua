-- Replaces a member of a deadline zset with another due at a new time (a webhook outbox entry
-- whose attempt count went up), only while the old member is still there: when another
-- process has already finished with it, nothing comes back.
-- KEYS[1] zset (score: due time, epoch ms)
-- ARGV[1] old member, ARGV[2] new member, ARGV[3] due (ms)
-- Returns 1 when replaced, 0 when the old member was gone.
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
return 1
