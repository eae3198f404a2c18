-- Marks a job as watched (an SSE stream is open on it), so every later change is published.
-- KEYS[1] job hash
-- Returns 1, or 0 when the job does not exist (nothing is created).
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'watched', '1')
return 1
