-- Hands a task to a worker, if the claimed queue entry is still the job's current delivery.
-- job: the job hash, p: field prefix of the task ('t_' for the job's one task, 'b:<task id>:'
-- for a branch), event: the task_leased history event as JSON without its id.
-- Returns the task payload (JSON) or false when the entry was stale.
-- A claim in flight when the job's final write landed must not lease one of its branches
-- after the terminal event.
local function lease_task(job, p, task_id, attempt, worker, now, event, channel, job_id)
  local f = redis.call('HMGET', job, p .. 'att', p .. 'status', 'rev', p .. 'payload',
    'history', 'hlen', 'watched', 't_id', 'status')
  if f[1] ~= attempt or f[2] ~= 'queued' or (p == 't_' and f[8] ~= task_id) or ended[f[9]] then
    return false
  end
  local history, n = append_history(f[5], f[6], event)
  redis.call('HSET', job, p .. 'status', 'leased', p .. 'worker', worker, p .. 'leased', now,
    'rev', tostring(tonumber(f[3]) + 1), 'history', history, 'hlen', tostring(n))
  if f[7] == '1' then
    redis.call('PUBLISH', channel, job_id)
  end
  return f[4]
end
