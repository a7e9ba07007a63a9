// Lua scripts of RedisStateStore. Every key a script touches is passed in KEYS and carries the
// partition's hash tag `{<prefix>:<partition>}`, so each script stays inside one hash slot and
// runs unchanged on Redis Cluster. Amounts that Redis increments travel as strings: Lua 5.1
// would print a large number as 1e+15, which HINCRBY rejects.

/**
 * Moves a key's expiry later, never earlier (PEXPIRE GT would skip keys without a TTL). Expiry is
 * relative to the caller's clock (`at - now`), not Redis' wall clock, so injected time stays
 * consistent and clock skew between replicas and Redis cannot expire a live counter early.
 */
const EXTEND_EXPIRY = `
local function extend_expiry(key, at, now)
  local want = at - now
  if want < 1000 then want = 1000 end
  local ttl = redis.call('PTTL', key)
  if ttl < want then redis.call('PEXPIRE', key, want) end
end
`;

/**
 * KEYS[1] reservation record, KEYS[2] pending zset, KEYS[3..] counters.
 * ARGV[1] JSON: { rid, now, deadline, forgetAt, est (string), estNum, estTokens (string), estTokensNum,
 *   keys (JSON text stored on the record), budgets: [{ key, reads: [i], limit, exp }],
 *   rates: [{ key, tokens: bool, limit, exp }] } where key/reads index KEYS.
 * Returns {'duplicate', state} | {'budget', index, remaining} | {'rate', index}
 *   | {'reserved', budgetRemainingJson, rateRemainingJson}.
 */
export const RESERVE_SCRIPT = `${EXTEND_EXPIRY}
local spec = cjson.decode(ARGV[1])
local state = redis.call('HGET', KEYS[1], 'state')
if state then return {'duplicate', state} end
local budget_remaining = {}
for i, b in ipairs(spec.budgets) do
  local used = 0
  for _, r in ipairs(b.reads) do
    local v = redis.call('HMGET', KEYS[r], 'spent', 'reserved')
    used = used + (tonumber(v[1]) or 0) + (tonumber(v[2]) or 0)
  end
  local remaining = b.limit - used
  if spec.estNum > remaining then
    if remaining < 0 then remaining = 0 end
    return {'budget', i - 1, remaining}
  end
  budget_remaining[i] = remaining - spec.estNum
end
local rate_remaining = {}
for i, r in ipairs(spec.rates) do
  local amount = 1
  if r.tokens then amount = spec.estTokensNum end
  local remaining = r.limit - (tonumber(redis.call('HGET', KEYS[r.key], 'spent')) or 0)
  if amount > remaining then return {'rate', i - 1} end
  rate_remaining[i] = remaining - amount
end
for _, b in ipairs(spec.budgets) do
  redis.call('HINCRBY', KEYS[b.key], 'reserved', spec.est)
  extend_expiry(KEYS[b.key], b.exp, spec.now)
end
for _, r in ipairs(spec.rates) do
  if r.tokens then redis.call('HINCRBY', KEYS[r.key], 'spent', spec.estTokens)
  else redis.call('HINCRBY', KEYS[r.key], 'spent', 1) end
  extend_expiry(KEYS[r.key], r.exp, spec.now)
end
redis.call('HSET', KEYS[1], 'state', 'pending', 'est', spec.est, 'estTokens', spec.estTokens,
  'deadline', spec.deadline, 'keys', spec.keys)
redis.call('PEXPIRE', KEYS[1], spec.forgetAt - spec.now)
redis.call('ZADD', KEYS[2], spec.deadline, spec.rid)
return {'reserved', cjson.encode(budget_remaining), cjson.encode(rate_remaining)}
`;

/**
 * KEYS[1] record, KEYS[2] pending zset, KEYS[3] ledger stream, KEYS[4..] budget counters then
 * token counters. ARGV: rid, budgetCount, tokenCount, actualMicros (string), actualTokens,
 * now, idempotencyTtlMs, counterTtlMs, ledgerMaxLen, ledgerEntryJson.
 * A pending reservation gives back its estimate first; an expired/released/unknown one does not
 * (the estimate is no longer held) but the real spend is still recorded: the call happened.
 */
export const SETTLE_SCRIPT = `${EXTEND_EXPIRY}
local rid, nb, nt = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local actual, actual_tokens, now = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local idem_ttl, counter_ttl = tonumber(ARGV[7]), tonumber(ARGV[8])
local rec = redis.call('HMGET', KEYS[1], 'state', 'est', 'estTokens')
if rec[1] == 'settled' then return 'duplicate' end
local pending = rec[1] == 'pending'
for i = 1, nb do
  local k = KEYS[3 + i]
  if pending then redis.call('HINCRBY', k, 'reserved', '-' .. rec[2]) end
  redis.call('HINCRBY', k, 'spent', actual)
  extend_expiry(k, now + counter_ttl, now)
end
for i = 1, nt do
  -- A rate window that already expired is not revived: its limit no longer matters.
  local k = KEYS[3 + nb + i]
  if redis.call('EXISTS', k) == 1 then
    local delta = actual_tokens
    if pending then delta = actual_tokens - tonumber(rec[3]) end
    redis.call('HINCRBY', k, 'spent', delta)
  end
end
redis.call('HSET', KEYS[1], 'state', 'settled', 'actual', actual)
redis.call('PEXPIRE', KEYS[1], idem_ttl)
redis.call('ZREM', KEYS[2], rid)
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[9], '*', 'entry', ARGV[10])
return 'settled'
`;

/**
 * KEYS[1] record, KEYS[2] pending zset, KEYS[3..] budget counters then token counters.
 * ARGV: rid, target state ('released' | 'expired'), now, idempotencyTtlMs, budgetCount, tokenCount.
 * 'expired' only applies once the deadline has passed, so a sweeper racing a live request is harmless.
 */
export const RELEASE_SCRIPT = `
local rid, target, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local idem_ttl, nb, nt = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local rec = redis.call('HMGET', KEYS[1], 'state', 'est', 'estTokens', 'deadline')
if not rec[1] then
  redis.call('ZREM', KEYS[2], rid)
  return {'noop', 'unknown'}
end
if rec[1] ~= 'pending' then return {'noop', rec[1]} end
if target == 'expired' and tonumber(rec[4]) > now then return {'noop', 'pending'} end
for i = 1, nb do
  local k = KEYS[2 + i]
  if redis.call('EXISTS', k) == 1 then redis.call('HINCRBY', k, 'reserved', '-' .. rec[2]) end
end
for i = 1, nt do
  local k = KEYS[2 + nb + i]
  if redis.call('EXISTS', k) == 1 then redis.call('HINCRBY', k, 'spent', '-' .. rec[3]) end
end
redis.call('HSET', KEYS[1], 'state', target)
redis.call('PEXPIRE', KEYS[1], idem_ttl)
redis.call('ZREM', KEYS[2], rid)
return {'released'}
`;
