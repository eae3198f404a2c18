-- Records one parallel branch's result in its own fields and counts the branches still out,
-- so branches reporting at once never contend for the job document.
-- KEYS[1] job hash
-- ARGV[1] task id, ARGV[2] attempt, ARGV[3] worker id, ARGV[4] outcome JSON
-- ARGV[5] the task_result history event as JSON without its id, ARGV[6] change channel
-- ARGV[7] job id, ARGV[8] and ARGV[9] the branch's status before and after its result
-- (leased, and the status that says its result is recorded): the caller names them, the
-- script only checks the one and writes the other; then the terminal job statuses and their
-- count (lib/ended.lua)
-- Returns the number of branches still out (0: the caller runs the aggregator), -1 when the
-- worker does not hold this branch.
-- A job that ended holds no branch any more: nothing may follow its terminal event.
-- @include lib/ended.lua
-- @include lib/history.lua
local p = 'b:' .. ARGV[1] .. ':'
local f = redis.call('HMGET', KEYS[1], p .. 'att', p .. 'status', p .. 'worker', 'rev',
  'pending', 'history', 'hlen', 'watched', 'status')
if f[1] ~= ARGV[2] or f[2] ~= ARGV[8] or f[3] ~= ARGV[3] or ended[f[9]] then
  return -1
end
local pending = tonumber(f[5]) - 1
local history, n = append_history(f[6], f[7], ARGV[5])
redis.call('HSET', KEYS[1], p .. 'status', ARGV[9], p .. 'result', ARGV[4], 'pending',
  tostring(pending), 'rev', tostring(tonumber(f[4]) + 1), 'history', history,
  'hlen', tostring(n))
if f[8] == '1' then
  redis.call('PUBLISH', ARGV[6], ARGV[7])
end
return pending
