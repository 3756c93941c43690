"""The Lua scripts of the Redis store: each operation that must be atomic across instances runs as one
script (Redis runs a script alone), so a count, a claim or a queue take is exact however many
processes call it at once. Keys are derived from the store's prefix inside the scripts that touch
a variable set of keys (journal indexes, queue patterns): the store targets one Redis server, not a
cluster. Times are simulator seconds passed as the caller's ``repr`` of a float, compared as doubles
exactly as Python compares them.
"""

from __future__ import annotations

# --- windows (quotas): a hash per (space, key) with total ``t``, day ``d``, daily count ``dc``, the
# last second's count ``rt``, and per 1 ms bucket its newest stamp ``s<ms>`` and count ``c<ms>``; a
# list holds the buckets' milliseconds, oldest first (made in increasing order, so a list's O(1) ends
# are all a bucket needs: a sorted set cost a skip-list insert and delete per bucket). The same
# window as ``quotas.Window``.

_TRIM = """
local function trim(u, l, now, rt)
  while true do
    local ms = redis.call('LINDEX', l, 0)
    if not ms then break end
    local b = redis.call('HMGET', u, 's' .. ms, 'c' .. ms)
    local st = tonumber(b[1])
    if st ~= nil and st > now - 1.0 then break end
    rt = rt - tonumber(b[2] or '0')
    redis.call('LPOP', l)
    redis.call('HDEL', u, 's' .. ms, 'c' .. ms)
  end
  return rt
end
local function add(u, l, now, nowtext, ms, n)
  local lm = redis.call('LINDEX', l, -1)
  if lm and tonumber(ms) <= tonumber(lm) then
    if now > tonumber(redis.call('HGET', u, 's' .. lm)) then redis.call('HSET', u, 's' .. lm, nowtext) end
    redis.call('HINCRBY', u, 'c' .. lm, n)
  else
    redis.call('RPUSH', l, ms)
    redis.call('HSET', u, 's' .. ms, nowtext, 'c' .. ms, n)
  end
end
"""

#: KEYS: usage hash, bucket list. ARGV: now, n, day, ms, qps, daily, total ('' = no limit).
#: Returns the broken limit's name, or nil (counted).
CONSUME = (
    _TRIM
    + """
local u, l = KEYS[1], KEYS[2]
local now, n, day = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local h = redis.call('HMGET', u, 'rt', 't', 'd', 'dc')
local rt = trim(u, l, now, tonumber(h[1] or '0'))
local tot = tonumber(h[2] or '0')
local daily = 0
if tonumber(h[3] or '-1') == day then daily = tonumber(h[4] or '0') end
local broken = nil
if ARGV[5] ~= '' and rt + n > tonumber(ARGV[5]) then broken = 'qps'
elseif ARGV[6] ~= '' and daily + n > tonumber(ARGV[6]) then broken = 'daily'
elseif ARGV[7] ~= '' and tot + n > tonumber(ARGV[7]) then broken = 'total' end
if broken then
  redis.call('HSET', u, 'rt', rt)
  return broken
end
add(u, l, now, ARGV[1], ARGV[4], n)
redis.call('HSET', u, 'rt', rt + n, 't', tot + n, 'd', day, 'dc', daily + n)
return nil
"""
)

#: KEYS: usage hash, bucket list. ARGV: now, n, day, ms. Un-counts n calls.
REFUND = (
    _TRIM
    + """
local u, l = KEYS[1], KEYS[2]
local now, n, day = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local h = redis.call('HMGET', u, 'rt', 't', 'd', 'dc')
local rt = trim(u, l, now, tonumber(h[1] or '0'))
redis.call('HSET', u, 't', math.max(0, tonumber(h[2] or '0') - n))
if tonumber(h[3] or '-1') == day then
  redis.call('HSET', u, 'dc', math.max(0, tonumber(h[4] or '0') - n))
end
add(u, l, now, ARGV[1], ARGV[4], -n)
redis.call('HSET', u, 'rt', rt - n)
return 1
"""
)

#: KEYS: usage hash, bucket list. ARGV: now, day. Returns {qps, daily, total}.
USAGE = (
    _TRIM
    + """
local u, l = KEYS[1], KEYS[2]
local now, day = tonumber(ARGV[1]), tonumber(ARGV[2])
local h = redis.call('HMGET', u, 'rt', 't', 'd', 'dc')
local rt = trim(u, l, now, tonumber(h[1] or '0'))
if redis.call('EXISTS', u) == 1 then redis.call('HSET', u, 'rt', rt) end
local daily = 0
if tonumber(h[3] or '-1') == day then daily = tonumber(h[4] or '0') end
return {rt, daily, tonumber(h[2] or '0')}
"""
)

#: KEYS: pool hash. ARGV: name, limit, name, limit, ... Returns {the pool used ('' = none), then
#: every pool's name and uses after}.
TAKE_FROM = """
local taken = ''
for i = 1, #ARGV, 2 do
  local used = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0')
  if used < tonumber(ARGV[i + 1]) then
    redis.call('HINCRBY', KEYS[1], ARGV[i], 1)
    taken = ARGV[i]
    break
  end
end
local out = {taken}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all do out[#out + 1] = all[i] end
return out
"""

#: KEYS: the claim. ARGV: now, expiry (simulator seconds), real TTL (ms). 1: claimed.
CLAIM = """
local v = redis.call('GET', KEYS[1])
if v and tonumber(v) > tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"""

# --- tables: hash key -> JSON record, zset of keys by insertion number (the order), zset of keys by
# expiry (expiring tables), and the insertion counter.

#: KEYS: records, order, expiry, counter. ARGV: key, record, now, expiry ('' = none), cap,
#: expiring ('1'). Returns the keys evicted.
TABLE_PUT = """
local h, o, e, cnt = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local key, now, cap, expiring = ARGV[1], tonumber(ARGV[3]), tonumber(ARGV[5]), ARGV[6] == '1'
redis.call('HSET', h, key, ARGV[2])
redis.call('ZADD', o, redis.call('INCR', cnt), key)
if expiring then
  local score = ARGV[4]
  if score == '' then score = 'inf' end
  redis.call('ZADD', e, score, key)
end
local gone = {}
while redis.call('HLEN', h) > cap do
  local victim = nil
  if expiring then
    local first = redis.call('ZRANGE', e, 0, 0, 'WITHSCORES')
    if #first > 0 and tonumber(first[2]) <= now then victim = first[1] end
  end
  if victim == nil then victim = redis.call('ZRANGE', o, 0, 0)[1] end
  redis.call('HDEL', h, victim)
  redis.call('ZREM', o, victim)
  if expiring then redis.call('ZREM', e, victim) end
  gone[#gone + 1] = victim
end
return gone
"""

#: KEYS: records, order, expiry. ARGV: key, the record as read, the new record ('' = delete).
#: 1: replaced; 0: the record changed since it was read (the caller reads it again).
TABLE_CAS = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
end
return 1
"""

#: KEYS: records, order, expiry. ARGV: key. 1: deleted.
TABLE_DELETE = """
local n = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return n
"""

#: KEYS: records, order. ARGV: limit (-1: all). The records in insertion order.
TABLE_VALUES = """
local out = {}
for _, key in ipairs(redis.call('ZRANGE', KEYS[2], 0, tonumber(ARGV[1]))) do
  out[#out + 1] = redis.call('HGET', KEYS[1], key)
end
return out
"""

# --- the queue of outcomes: ``q`` pos -> entry JSON, ``qs`` pos -> scenario, ``qr`` pos -> uses
# left, ``qk`` pos -> its pattern's index key, ``qa`` every pos (zset), ``qi:<pattern>`` the
# positions of one (vendor, operation, credential) pattern (zset), ``qn`` the position counter.

#: ARGV: prefix, entry JSON, scenario, uses, pattern. Returns the position.
QUEUE_ADD = """
local p = ARGV[1]
local pos = redis.call('INCR', p .. 'qn')
local idx = p .. 'qi:' .. ARGV[5]
redis.call('HSET', p .. 'q', pos, ARGV[2])
redis.call('HSET', p .. 'qs', pos, ARGV[3])
redis.call('HSET', p .. 'qr', pos, ARGV[4])
redis.call('HSET', p .. 'qk', pos, idx)
redis.call('ZADD', p .. 'qa', pos, pos)
redis.call('ZADD', idx, pos, pos)
return pos
"""

#: ARGV: prefix, config version key, number of patterns, patterns..., number of usable names,
#: names..., number of unusable names, names... The walk goes through the matching entries in queue
#: order (the first 256 of each pattern). Returns {status, pos, entry, uses left, version, skipped,
#: unknown, entries left}: status 1 = taken, 0 = none usable, 2 = names the caller must judge first
#: (``unknown``; nothing taken).
QUEUE_TAKE = """
local p = ARGV[1]
local version = tonumber(redis.call('GET', ARGV[2]) or '0')
local left = redis.call('HLEN', p .. 'q')
if left == 0 then return {0, 0, '', 0, version, {}, {}, 0} end
local i = 3
local npat = tonumber(ARGV[i]); i = i + 1
local cands = {}
for k = 1, npat do
  local members = redis.call('ZRANGE', p .. 'qi:' .. ARGV[i], 0, 255)
  for _, m in ipairs(members) do cands[#cands + 1] = tonumber(m) end
  i = i + 1
end
local ok, bad = {}, {}
local n = tonumber(ARGV[i]); i = i + 1
for k = 1, n do ok[ARGV[i]] = true; i = i + 1 end
n = tonumber(ARGV[i]); i = i + 1
for k = 1, n do bad[ARGV[i]] = true; i = i + 1 end
table.sort(cands)
local skipped, unknown, seen = {}, {}, {}
for _, pos in ipairs(cands) do
  local name = redis.call('HGET', p .. 'qs', pos)
  if ok[name] then
    if #unknown > 0 then return {2, 0, '', 0, version, skipped, unknown, left} end
    local uses = redis.call('HINCRBY', p .. 'qr', pos, -1)
    local entry = redis.call('HGET', p .. 'q', pos)
    if uses <= 0 then
      local idx = redis.call('HGET', p .. 'qk', pos)
      redis.call('HDEL', p .. 'q', pos)
      redis.call('HDEL', p .. 'qs', pos)
      redis.call('HDEL', p .. 'qr', pos)
      redis.call('HDEL', p .. 'qk', pos)
      redis.call('ZREM', p .. 'qa', pos)
      redis.call('ZREM', idx, pos)
      left = left - 1
    end
    return {1, pos, entry, uses, version, skipped, unknown, left}
  elseif bad[name] then
    skipped[#skipped + 1] = name
  elseif not seen[name] then
    seen[name] = true
    unknown[#unknown + 1] = name
    if #unknown >= 16 then break end
  end
end
if #unknown > 0 then return {2, 0, '', 0, version, skipped, unknown, left} end
return {0, 0, '', 0, version, skipped, unknown, left}
"""

#: ARGV: prefix, pos, entry JSON, scenario, pattern. One use back (the entry back in its place).
QUEUE_GIVE_BACK = """
local p, pos = ARGV[1], ARGV[2]
if redis.call('HEXISTS', p .. 'qr', pos) == 1 then
  redis.call('HINCRBY', p .. 'qr', pos, 1)
  return 1
end
local idx = p .. 'qi:' .. ARGV[5]
redis.call('HSET', p .. 'q', pos, ARGV[3])
redis.call('HSET', p .. 'qs', pos, ARGV[4])
redis.call('HSET', p .. 'qr', pos, 1)
redis.call('HSET', p .. 'qk', pos, idx)
redis.call('ZADD', p .. 'qa', pos, pos)
redis.call('ZADD', idx, pos, pos)
return 1
"""

#: ARGV: prefix. {pos, entry, uses left, ...} in queue order.
QUEUE_LIST = """
local p = ARGV[1]
local out = {}
for _, pos in ipairs(redis.call('ZRANGE', p .. 'qa', 0, -1)) do
  out[#out + 1] = pos
  out[#out + 1] = redis.call('HGET', p .. 'q', pos)
  out[#out + 1] = redis.call('HGET', p .. 'qr', pos)
end
return out
"""

#: ARGV: prefix. Every entry gone.
QUEUE_CLEAR = """
local p = ARGV[1]
for _, idx in ipairs(redis.call('HVALS', p .. 'qk')) do redis.call('DEL', idx) end
redis.call('DEL', p .. 'q', p .. 'qs', p .. 'qr', p .. 'qk', p .. 'qa')
return 1
"""

# --- fault rule counters: ``fs`` rule -> requests matched, ``fb`` rule NUL credential -> the same
# per credential, ``fh`` rule -> hits.

#: ARGV: prefix, rule id, credential. {seen, seen by this credential}.
FAULT_SEEN = """
local p = ARGV[1]
return {redis.call('HINCRBY', p .. 'fs', ARGV[2], 1), redis.call('HINCRBY', p .. 'fb', ARGV[2] .. '\\0' .. ARGV[3], 1)}
"""

# --- the journal: ``j`` seq -> entry JSON without its seq, ``jm`` seq -> its indexed fields (JSON
# array), ``js`` the seq counter (never reset), ``jr`` request id -> seq, ``ji:<field>:<value>`` the
# seqs of one value of vendor (v), operation (o) or credential (c), oldest first. A seq leaves with
# everything that names it when the journal holds ``cap`` newer ones. An entry is stored as sent and
# gets its ``"seq"`` key when read (``JOURNAL_SELECT``): writes are the hot path, reads are rare.

#: ARGV: prefix, cap, then per entry: JSON without its seq, vendor, operation, credential, request
#: id ('' = none). Returns the last seq.
JOURNAL_ADD = """
local p, cap = ARGV[1], tonumber(ARGV[2])
local rows = (#ARGV - 2) / 5
local seq = redis.call('INCRBY', p .. 'js', rows) - rows
local J, JM, JR = p .. 'j', p .. 'jm', p .. 'jr'
local idx = {p .. 'ji:v:', p .. 'ji:o:', p .. 'ji:c:'}
for i = 3, #ARGV, 5 do
  seq = seq + 1
  local v, o, c, r = ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  redis.call('HSET', J, seq, ARGV[i])
  redis.call('HSET', JM, seq, cjson.encode({v, o, c, r}))
  if v ~= '' then redis.call('RPUSH', idx[1] .. v, seq) end
  if o ~= '' then redis.call('RPUSH', idx[2] .. o, seq) end
  if c ~= '' then redis.call('RPUSH', idx[3] .. c, seq) end
  if r ~= '' then redis.call('HSET', JR, r, seq) end
  local old = seq - cap
  if old >= 1 then
    local om = redis.call('HGET', JM, old)
    if om then
      local m = cjson.decode(om)
      redis.call('HDEL', J, old)
      redis.call('HDEL', JM, old)
      for f = 1, 3 do
        if m[f] ~= '' then
          local key = idx[f] .. m[f]
          if tonumber(redis.call('LINDEX', key, 0)) == old then redis.call('LPOP', key) end
        end
      end
      if m[4] ~= '' and tonumber(redis.call('HGET', JR, m[4])) == old then
        redis.call('HDEL', JR, m[4])
      end
    end
  end
end
return seq
"""

#: ARGV: prefix, floor (the lowest seq wanted), want (rows at most), then pairs of indexed field
#: (v, o, c, r) and value. The matching entries' JSON, newest first.
JOURNAL_SELECT = """
local p, floor, want = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {}
local filters = {}
for i = 4, #ARGV, 2 do filters[#filters + 1] = {ARGV[i], ARGV[i + 1]} end
local pos = {v = 1, o = 2, c = 3, r = 4}
local function entry(seq)
  local blob = redis.call('HGET', p .. 'j', seq)
  if blob then return string.sub(blob, 1, -2) .. ',"seq":' .. seq .. '}' end
  return nil
end
local function matches(seq, skip)
  if #filters <= 1 and skip then return true end
  local m = redis.call('HGET', p .. 'jm', seq)
  if not m then return false end
  m = cjson.decode(m)
  for _, f in ipairs(filters) do
    if f ~= skip and m[pos[f[1]]] ~= f[2] then return false end
  end
  return true
end
local top = tonumber(redis.call('GET', p .. 'js') or '0')
if #filters == 0 then
  for seq = top, floor, -1 do
    local blob = entry(seq)
    if not blob then break end
    out[#out + 1] = blob
    if #out >= want then break end
  end
  return out
end
local best, bestlen = nil, nil
for _, f in ipairs(filters) do
  local len
  if f[1] == 'r' then
    len = redis.call('HEXISTS', p .. 'jr', f[2])
  else
    len = redis.call('LLEN', p .. 'ji:' .. f[1] .. ':' .. f[2])
  end
  if len == 0 then return out end
  if bestlen == nil or len < bestlen then best, bestlen = f, len end
end
if best[1] == 'r' then
  local seq = tonumber(redis.call('HGET', p .. 'jr', best[2]))
  if seq >= floor and matches(seq, best) then out[1] = entry(seq) end
  return out
end
local idx = p .. 'ji:' .. best[1] .. ':' .. best[2]
local stop = -1
while #out < want do
  local chunk = redis.call('LRANGE', idx, stop - 127, stop)
  if #chunk == 0 then break end
  for k = #chunk, 1, -1 do
    local seq = tonumber(chunk[k])
    if seq < floor then return out end
    if matches(seq, best) then
      local blob = entry(seq)
      if blob then out[#out + 1] = blob end
      if #out >= want then return out end
    end
  end
  if #chunk < 128 then break end
  stop = stop - 128
end
return out
"""

#: ARGV: prefix. Every entry gone (the seq keeps counting).
JOURNAL_CLEAR = """
local p = ARGV[1]
local fields = {'v', 'o', 'c'}
for _, m in ipairs(redis.call('HVALS', p .. 'jm')) do
  m = cjson.decode(m)
  for f = 1, 3 do
    if m[f] ~= '' then redis.call('DEL', p .. 'ji:' .. fields[f] .. ':' .. m[f]) end
  end
end
redis.call('DEL', p .. 'j', p .. 'jm', p .. 'jr')
return 1
"""

# --- shared configuration: ``v`` the version (never reset), ``cfg:<kind>`` {"v": version, "d": data}.

#: KEYS: version, the kind's document. ARGV: data JSON ('' = back to the fixtures), channel, the
#: event JSON up to its version. Returns the version.
PUBLISH = """
local v = redis.call('INCR', KEYS[1])
if ARGV[1] == '' then redis.call('DEL', KEYS[2])
else redis.call('SET', KEYS[2], '{"v":' .. v .. ',"d":' .. ARGV[1] .. '}') end
redis.call('PUBLISH', ARGV[2], ARGV[3] .. v .. '}')
return v
"""

#: KEYS: version[, a key to set to the new version]. ARGV: channel, the event JSON up to its version.
#: Returns the version.
ANNOUNCE = """
local v = redis.call('INCR', KEYS[1])
if #KEYS > 1 then redis.call('SET', KEYS[2], v) end
redis.call('PUBLISH', ARGV[1], ARGV[2] .. v .. '}')
return v
"""

#: KEYS: instances hash. ARGV: now (ms). The live instances' names (the dead are forgotten).
LIVE = """
local out = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if tonumber(all[i + 1]) > tonumber(ARGV[1]) then out[#out + 1] = all[i]
  else redis.call('HDEL', KEYS[1], all[i]) end
end
return out
"""

ALL = {
    "consume": CONSUME,
    "refund": REFUND,
    "usage": USAGE,
    "take_from": TAKE_FROM,
    "claim": CLAIM,
    "table_put": TABLE_PUT,
    "table_cas": TABLE_CAS,
    "table_delete": TABLE_DELETE,
    "table_values": TABLE_VALUES,
    "queue_add": QUEUE_ADD,
    "queue_take": QUEUE_TAKE,
    "queue_give_back": QUEUE_GIVE_BACK,
    "queue_list": QUEUE_LIST,
    "queue_clear": QUEUE_CLEAR,
    "fault_seen": FAULT_SEEN,
    "journal_add": JOURNAL_ADD,
    "journal_select": JOURNAL_SELECT,
    "journal_clear": JOURNAL_CLEAR,
    "publish": PUBLISH,
    "announce": ANNOUNCE,
    "live": LIVE,
}
