-- One Redis only: claim.lua and lease.lua in one script, so a claim is one round trip. It
-- reads the hash of the job each entry names, a key it is not given: Redis Cluster, where
-- the job lives in another slot, runs the two scripts one after the other instead.
-- KEYS as claim.lua's; ARGV[1 .. 6] as claim.lua's, then ARGV[7] worker id, ARGV[8] the
-- worker id as a JSON string, ARGV[9] now (epoch seconds), ARGV[10] change channel,
-- ARGV[11] key prefix (a job's hash is '<prefix>:{<job id>}:job', keys.py), ARGV[12] how
-- many tasks to lease at most (a worker's batched long-poll), ARGV[13] and ARGV[14] the
-- task's status before and after a lease (queued, leased), ARGV[15 .. 19] the task_leased
-- event's text around its time, task id, attempt and worker (events.task_leased_frame), then
-- the terminal job statuses and their count (lib/ended.lua)
-- Stale entries (the job moved on, ended, or was never stored) are dropped and the next one
-- is tried, at most 16 of them per call. The type's limits are checked before each entry,
-- so a batch never takes a task a claim of one would not have taken. A type without limits
-- or requirement queues takes its batch with one ZPOPMIN and one ZADD (take_batch): the
-- same entries in the same order, two commands instead of two per task.
-- Returns {stale leases removed, why it stopped, ms, kept, payload...}: why it stopped is 0
-- when it leased as many as asked or the queues are empty (fewer payloads than asked), 1 at
-- max in flight, 2 at max per second (ms until a token is there), 3 when it gave up after 16
-- stale entries (call again for the rest). kept: the hash of each one-task job leased, as
-- the lease wrote it (lib/lease_task.lua), for the claiming process to keep.
-- @include lib/ended.lua
-- @include lib/history.lua
-- @include lib/claim_entry.lua
-- @include lib/lease_task.lua
local function json_string(s)
  return '"' .. string.gsub(s, '[%c"\\]', function(c)
    return string.format('\\u%04x', string.byte(c))
  end) .. '"'
end

local n, max_in_flight = tonumber(ARGV[2]) or 0, tonumber(ARGV[3]) or 0
local rate, burst, now_ms = tonumber(ARGV[4]) or 0, tonumber(ARGV[5]), tonumber(ARGV[6])
local count = tonumber(ARGV[12])
local kept = {}
local answer = {0, 0, 0, kept}
local stale = 0
local unlimited = n == 0 and max_in_flight == 0 and rate == 0

-- Up to k entries of the one ready queue, recorded as leased: {{entry, added}, ...}, fewer
-- than k when the queue ran out. ZADD NX answers only how many it added: when that is not
-- all of them, which ones were already leased is unknown, and none is counted as added (a
-- stale one then stays in the leases until its deadline, where the lease sweep drops it).
local function take_batch(k)
  local r = redis.call('ZPOPMIN', KEYS[1], k)
  local taken, args = {}, {}
  for i = 1, #r, 2 do
    args[#args + 1] = ARGV[1]
    args[#args + 1] = r[i]
  end
  if #args == 0 then
    return taken
  end
  local added = redis.call('ZADD', KEYS[2], 'NX', unpack(args)) == #args / 2 and 1 or 0
  for i = 1, #r, 2 do
    taken[#taken + 1] = {r[i], added}
  end
  return taken
end

local batch, next_in_batch, ran_out = {}, 1, false
while #answer - 4 < count do
  -- a batch taken is leased to its end: its entries are out of the queue already
  if stale >= 16 and next_in_batch > #batch then
    answer[2] = 3
    return answer
  end
  local popped
  if unlimited then
    if next_in_batch > #batch and not ran_out then
      local wanted = count - (#answer - 4)
      batch, next_in_batch = take_batch(wanted), 1
      ran_out = #batch < wanted
    end
    popped = batch[next_in_batch] or false
    next_in_batch = next_in_batch + 1
  else
    popped = claim_entry(KEYS, ARGV[1], n, max_in_flight, rate, burst, now_ms)
  end
  if not popped then
    return answer
  end
  if popped[1] == '' then
    answer[2], answer[3] = popped[3], popped[4]
    return answer
  end
  local ref = popped[1]
  local job_id, task_id, attempt = string.match(ref, '^([^|]*)|([^|]*)|([^|]*)|')
  local prefix = 't_'
  if select(2, string.gsub(task_id, '%.', '')) == 2 then
    prefix = 'b:' .. task_id .. ':'
  end
  local event = ARGV[15] .. ARGV[9] .. ARGV[16] .. json_string(task_id) .. ARGV[17] ..
    attempt .. ARGV[18] .. ARGV[8] .. ARGV[19]
  local payload, job = lease_task(ARGV[11] .. ':{' .. job_id .. '}:job', prefix, task_id,
    attempt, ARGV[7], ARGV[9], event, ARGV[10], job_id, prefix == 't_', ARGV[13], ARGV[14])
  -- not yet at its revision (0): on one Redis entries are written with their job, so never
  if payload and payload ~= 0 then
    answer[#answer + 1] = payload
    if job then
      kept[#kept + 1] = job
    end
  else
    stale = stale + 1
    if popped[2] == 1 then  -- else the lease entry was there before: maybe a live delivery's
      redis.call('ZREM', KEYS[2], ref)
      answer[1] = answer[1] + 1
    end
  end
end
return answer
