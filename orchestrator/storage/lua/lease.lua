-- Hands a task to a worker, if the claimed queue entry is still the job's current delivery.
-- KEYS[1] job hash
-- ARGV[1] field prefix of the task ('t_' for the job's one task, 'b:<task id>:' for a branch)
-- ARGV[2] task id, ARGV[3] attempt, ARGV[4] worker id, ARGV[5] now (epoch seconds)
-- ARGV[6] the task_leased history event as JSON without its id, ARGV[7] change channel
-- ARGV[8] job id
-- Returns the task payload (JSON) or false when the entry was stale.
-- An ended job hands out nothing, whatever its task fields say: a claim in flight when the
-- job's final write landed must not lease one of its branches after the terminal event.
local ended = {finished = true, failed = true, cancelled = true, error = true, quarantined = true}
local p = ARGV[1]
local f = redis.call('HMGET', KEYS[1], p .. 'att', p .. 'status', 'rev', p .. 'payload',
  'history', 'hlen', 'watched', 't_id', 'status')
if f[1] ~= ARGV[3] or f[2] ~= 'queued' or (p == 't_' and f[8] ~= ARGV[2]) or ended[f[9]] then
  return false
end
local n = tonumber(f[6] or '0') + 1
local event = '{"id":' .. n .. ',' .. string.sub(ARGV[6], 2)
local history = f[5]
if not history or history == '' or history == '[]' then
  history = '[' .. event .. ']'
else
  history = string.sub(history, 1, -2) .. ',' .. event .. ']'
end
redis.call('HSET', KEYS[1], p .. 'status', 'leased', p .. 'worker', ARGV[4], p .. 'leased',
  ARGV[5], 'rev', tostring(tonumber(f[3]) + 1), 'history', history, 'hlen', tostring(n))
if f[7] == '1' then
  redis.call('PUBLISH', ARGV[7], ARGV[8])
end
return f[4]
