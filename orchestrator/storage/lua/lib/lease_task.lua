-- Hands a task to a worker, if the claimed queue entry is still the job's current delivery.
-- job: the job hash, p: field prefix of the task ('t_' for the job's one task, 'b:<task id>:'
-- for a branch), event: the task_leased history event as JSON without its id, full: read the
-- whole hash (HGETALL instead of HMGET: still one command) and return it as the lease left it.
-- queued, leased: the task statuses the lease moves between (TaskStatus, passed by the caller:
-- the engine names them, the script only checks the one and writes the other).
-- Returns the task payload (JSON); 0 when the job is not yet at the revision that wants this
-- attempt (on Cluster a commit's queue entry can land before its job write); false when the
-- entry is stale. With full, a leased task's payload comes with the job's hash as written
-- (field, value, ... : what HGETALL would now answer), for the leasing process to keep.
-- A claim in flight when the job's final write landed must not lease one of its branches
-- after the terminal event.

-- The job has not reached this delivery yet: no job, an earlier task (task ids are
-- '<job id>.<seq>' and '<job id>.<seq>.<branch>'), no such branch, or an earlier attempt.
local function not_yet(f, p, task_id, attempt)
  if not f[3] then
    return true
  end
  if p == 't_' and f[8] ~= task_id then
    local current = tonumber(string.match(f[8] or '', '%.(%d+)$'))
    local wanted = tonumber(string.match(task_id, '%.(%d+)$'))
    return current == nil or (wanted ~= nil and current < wanted)
  end
  return not f[1] or tonumber(f[1]) < tonumber(attempt)
end

local function lease_task(job, p, task_id, attempt, worker, now, event, channel, job_id, full,
    queued, leased)
  local names = {p .. 'att', p .. 'status', 'rev', p .. 'payload', 'history', 'hlen', 'watched',
    't_id', 'status'}
  local f, all
  if full then
    all = redis.call('HGETALL', job)
    local at = {}
    for i = 1, #all, 2 do
      at[all[i]] = all[i + 1]
    end
    f = {}
    for i, name in ipairs(names) do
      f[i] = at[name] or false
    end
  else
    f = redis.call('HMGET', job, unpack(names))
  end
  if ended[f[9]] then
    return false
  end
  if f[1] ~= attempt or f[2] ~= queued or (p == 't_' and f[8] ~= task_id) then
    if not_yet(f, p, task_id, attempt) then
      return 0
    end
    return false
  end
  local history, n = append_history(f[5], f[6], event)
  local written = {p .. 'status', leased, p .. 'worker', worker, p .. 'leased', now,
    'rev', tostring(tonumber(f[3]) + 1), 'history', history, 'hlen', tostring(n)}
  redis.call('HSET', job, unpack(written))
  if f[7] == '1' then
    redis.call('PUBLISH', channel, job_id)
  end
  if not full then
    return f[4]
  end
  local slot = {}
  for i = 1, #all, 2 do
    slot[all[i]] = i + 1
  end
  for i = 1, #written, 2 do
    if slot[written[i]] then
      all[slot[written[i]]] = written[i + 1]
    else
      all[#all + 1] = written[i]
      all[#all + 1] = written[i + 1]
    end
  end
  return f[4], all
end
