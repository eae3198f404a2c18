-- Takes the best entry of a task type's ready queues and records it as leased until ARGV[1],
-- if the type's limits allow one more delivery (the first step of a claim on Cluster; one
-- Redis runs claim_lease.lua instead).
-- KEYS[1] ready zset of the type's tasks without requirements, KEYS[2] leases zset (the
-- type's deliveries in flight), KEYS[3 .. 2+n] ready zsets of the requirement sets the worker
-- meets, KEYS[3+n] the type's token bucket (only with a rate)
-- ARGV[1] lease deadline (epoch ms), ARGV[2] n, ARGV[3] max in flight (0: no limit),
-- ARGV[4] tokens a second (0: no limit), ARGV[5] bucket size, ARGV[6] now (epoch ms)
-- Returns what claim_entry returns (lib/claim_entry.lua).
-- @include lib/claim_entry.lua
return claim_entry(KEYS, ARGV[1], tonumber(ARGV[2]) or 0, tonumber(ARGV[3]) or 0,
  tonumber(ARGV[4]) or 0, tonumber(ARGV[5]), tonumber(ARGV[6]))
