-- Token bucket: takes up to ARGV[4] tokens (at least one) if the bucket holds them; a refusal
-- takes none. Callers take several at once and spend them locally, so that most requests
-- cost no Redis call.
-- KEYS[1] bucket hash (fields: tokens, ts)
-- ARGV[1] now (epoch ms), ARGV[2] rate (tokens a second), ARGV[3] burst (bucket size),
-- ARGV[4] cost
-- Returns {tokens taken (0: refused), ms until one token is there (0 when some were taken)}.
local now = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local f = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(f[1]) or burst
local ts = tonumber(f[2]) or now
-- Processes' clocks differ a little: a caller behind the last one refills nothing, and the
-- bucket's clock never goes back.
if now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate / 1000)
  ts = now
end
local taken, wait = 0, 0
if tokens >= 1 then
  taken = math.min(math.floor(tokens), cost)
  tokens = tokens - taken
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts))
-- Once full again an idle bucket is the same as no bucket: let it go.
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 1000)
return {taken, wait}
