-- Hands a task to a worker, if the claimed queue entry is still the job's current delivery
-- (the second step of a claim on Cluster; one Redis runs claim_lease.lua instead).
-- KEYS[1] job hash
-- ARGV[1] field prefix of the task ('t_' for the job's one task, 'b:<task id>:' for a branch)
-- ARGV[2] task id, ARGV[3] attempt, ARGV[4] worker id, ARGV[5] now (epoch seconds)
-- ARGV[6] the task_leased history event as JSON without its id, ARGV[7] change channel
-- ARGV[8] job id, ARGV[9] and ARGV[10] the task's status before and after (queued, leased),
-- then the terminal job statuses and their count (lib/ended.lua)
-- Returns the task payload (JSON), 0 when the job is not yet at the revision that wants this
-- attempt (the caller puts the entry back, defer.lua), false when the entry was stale.
-- @include lib/ended.lua
-- @include lib/history.lua
-- @include lib/lease_task.lua
local payload = lease_task(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6],
  ARGV[7], ARGV[8], false, ARGV[9], ARGV[10])
return payload
