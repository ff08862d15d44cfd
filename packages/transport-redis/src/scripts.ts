import { LuaScript } from './lua-script.js';

/**
 * Every multi-step change is one Lua script: atomic on the server and one round trip.
 *
 * Stream entry fields: `id` (event id), `type`, `key` (ordering key, absent when none), `body`
 * (the envelope JSON), `n` (deliveries before this copy of the entry existed: a retried or
 * released copy carries them) and `first` (first attempt, epoch ms). A delivery's attempt is
 * `n` + the delivery count the group's pending list keeps for the entry, so a delivery to a
 * consumer that died counts without any write on the hot path.
 *
 * Fencing: a delivery is identified by (entry id, consumer, delivery count). Once a lease lapses
 * and another consumer claims the entry, the owner or the count changes, and every settle of the
 * old delivery finds nothing to do.
 */

const TIME_MS = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

const OWNED = `
local function owned(stream, group, consumer, id, deliveries)
  local p = redis.call('XPENDING', stream, group, id, id, 1, consumer)
  return #p == 1 and p[1][4] == tonumber(deliveries)
end
`;

/** A requeued copy: the JSON of { id, type, key?, body, n, first? } built by the client. */
const ADD_COPY = `
local function add_copy(stream, copy)
  local m = cjson.decode(copy)
  local args = { stream, '*', 'id', m.id, 'type', m.type }
  if m.key then args[#args + 1] = 'key'; args[#args + 1] = m.key end
  args[#args + 1] = 'body'; args[#args + 1] = m.body
  args[#args + 1] = 'n'; args[#args + 1] = m.n
  if m.first then args[#args + 1] = 'first'; args[#args + 1] = m.first end
  redis.call('XADD', unpack(args))
end
`;

const FIELDS = `
local function fields(flat)
  local f = {}
  for i = 1, #flat, 2 do f[flat[i]] = flat[i + 1] end
  return f
end
local function add_fresh(stream, f)
  if f.key and f.key ~= '' then
    redis.call('XADD', stream, '*', 'id', f.id, 'type', f.type, 'key', f.key, 'body', f.body)
  else
    redis.call('XADD', stream, '*', 'id', f.id, 'type', f.type, 'body', f.body)
  end
end
`;

/**
 * ARGV: key base, then (type, event id, ordering key or '', body) per event. Routes every event
 * before writing any, so an unroutable one leaves the whole batch unwritten.
 */
export const publishScript = new LuaScript(`
local base = ARGV[1]
local routes = {}
for i = 2, #ARGV, 4 do
  local t = ARGV[i]
  if routes[t] == nil then
    local groups = redis.call('SMEMBERS', base .. 'route:' .. t)
    if #groups == 0 then return redis.error_reply('UNROUTABLE ' .. t) end
    routes[t] = groups
  end
end
for i = 2, #ARGV, 4 do
  local t, id, key, body = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  for _, g in ipairs(routes[t]) do
    if key == '' then
      redis.call('XADD', base .. 'stream:' .. g, '*', 'id', id, 'type', t, 'body', body)
    else
      redis.call('XADD', base .. 'stream:' .. g, '*', 'id', id, 'type', t, 'key', key, 'body', body)
    end
  end
end
return (#ARGV - 1) / 4
`);

/** KEYS: stream. ARGV: key base, group, event types... The group starts at the stream's beginning. */
export const declareScript = new LuaScript(`
local created = redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[2], '0', 'MKSTREAM')
if type(created) == 'table' and created.err and not string.find(created.err, 'BUSYGROUP') then
  return redis.error_reply(created.err)
end
for i = 3, #ARGV do redis.call('SADD', ARGV[1] .. 'route:' .. ARGV[i], ARGV[2]) end
return 1
`);

/**
 * KEYS: stream. ARGV: group, consumer, own lease ms, max, scan budget. Claims entries whose lease
 * lapsed: idle longer than their owner's lease, which the owner's name carries (`…~<leaseMs>`).
 * Returns { entry id, fields, delivery count now, idle before } for each.
 */
export const reclaimScript = new LuaScript(`
local stream, group, me = KEYS[1], ARGV[1], ARGV[2]
local own_lease, max, budget = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local out = {}
local start = '-'
local scanned = 0
while #out < max and scanned < budget do
  local page = redis.call('XPENDING', stream, group, 'IDLE', own_lease, start, '+', 100)
  if #page == 0 then break end
  for _, p in ipairs(page) do
    local id, owner, idle, count = p[1], p[2], p[3], p[4]
    local lease = tonumber(string.match(owner, '~(%d+)$')) or own_lease
    if idle >= lease and #out < max then
      local claimed = redis.call('XCLAIM', stream, group, me, lease, id)
      local entry = claimed[1]
      if type(entry) == 'table' and type(entry[2]) == 'table' then
        out[#out + 1] = { entry[1], entry[2], count + 1, idle }
      end
    end
  end
  scanned = scanned + #page
  start = '(' .. page[#page][1]
end
return out
`);

/**
 * KEYS: stream, delayed. ARGV: max. Moves due retries into the stream (which wakes blocked
 * readers); returns ms until the next one is due, or -1 when none waits.
 */
export const promoteScript = new LuaScript(`
${TIME_MS}
${ADD_COPY}
local now = now_ms()
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, copy in ipairs(due) do
  add_copy(KEYS[1], copy)
  redis.call('ZREM', KEYS[2], copy)
end
if #due == tonumber(ARGV[1]) then return 0 end
local next = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if #next == 0 then return -1 end
return math.max(0, tonumber(next[2]) - now)
`);

/**
 * KEYS: stream. ARGV: group, consumer, (entry id, delivery count)... Acknowledges and deletes the
 * owned ones. One XPENDING over the batch's id range (this consumer's entries only) fences the
 * whole batch, and one XACK and one XDEL settle it: three commands per batch, not per entry.
 */
export const ackScript = new LuaScript(`
local stream, group, me = KEYS[1], ARGV[1], ARGV[2]
local function before(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, bm = tonumber(am), tonumber(bm)
  return am < bm or (am == bm and tonumber(as) < tonumber(bs))
end
local low, high = ARGV[3], ARGV[3]
for i = 5, #ARGV, 2 do
  if before(ARGV[i], low) then low = ARGV[i] end
  if before(high, ARGV[i]) then high = ARGV[i] end
end
-- This consumer's pending entries in the range: the batch, plus whatever else it holds there.
local limit = (#ARGV - 2) / 2 + 1000
local page = redis.call('XPENDING', stream, group, low, high, limit, me)
local held = {}
for _, p in ipairs(page) do held[p[1]] = p[4] end
local ids = {}
for i = 3, #ARGV, 2 do
  local count = held[ARGV[i]]
  if count == nil and #page == limit then
    local p = redis.call('XPENDING', stream, group, ARGV[i], ARGV[i], 1, me)
    if #p == 1 then count = p[1][4] end
  end
  if count == tonumber(ARGV[i + 1]) then ids[#ids + 1] = ARGV[i] end
end
for i = 1, #ids, 1000 do
  local chunk = { unpack(ids, i, math.min(i + 999, #ids)) }
  redis.call('XACK', stream, group, unpack(chunk))
  redis.call('XDEL', stream, unpack(chunk))
end
return #ids
`);

/** KEYS: stream. ARGV: group, consumer, (entry id, delivery count)... Resets the idle time of owned ones. */
export const extendScript = new LuaScript(`
${OWNED}
local stream, group, me = KEYS[1], ARGV[1], ARGV[2]
local done = 0
for i = 3, #ARGV, 2 do
  if owned(stream, group, me, ARGV[i], ARGV[i + 1]) then
    redis.call('XCLAIM', stream, group, me, 0, ARGV[i], 'JUSTID')
    done = done + 1
  end
end
return done
`);

/**
 * KEYS: stream, delayed. ARGV: group, consumer, delay ms, (entry id, delivery count, copy JSON)...
 * Replaces each owned entry by a copy carrying its attempts: at once at the stream's end (a
 * release), or in the delayed set until due (a retry).
 */
export const requeueScript = new LuaScript(`
${TIME_MS}
${OWNED}
${ADD_COPY}
local stream, group, me, delay = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3])
local due = 0
if delay > 0 then due = now_ms() + delay end
local done = 0
for i = 4, #ARGV, 3 do
  if owned(stream, group, me, ARGV[i], ARGV[i + 1]) then
    redis.call('XACK', stream, group, ARGV[i])
    redis.call('XDEL', stream, ARGV[i])
    if delay > 0 then redis.call('ZADD', KEYS[2], due, ARGV[i + 2]) else add_copy(stream, ARGV[i + 2]) end
    done = done + 1
  end
end
return done
`);

/**
 * KEYS: stream, dead letters, their index, their position counter. ARGV: group, consumer, entry id,
 * delivery count, event id, type, key, body, reason, attempts, first, last, dead-lettered at.
 */
export const deadLetterScript = new LuaScript(`
${OWNED}
local stream, dlq, index, position = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
if not owned(stream, ARGV[1], ARGV[2], ARGV[3], ARGV[4]) then return 0 end
redis.call('XACK', stream, ARGV[1], ARGV[3])
redis.call('XDEL', stream, ARGV[3])
local previous = redis.call('HGET', index, ARGV[5])
if previous then redis.call('XDEL', dlq, previous) end
local id = redis.call('INCR', position) .. '-0'
redis.call('XADD', dlq, id, 'id', ARGV[5], 'type', ARGV[6], 'key', ARGV[7], 'body', ARGV[8], 'reason', ARGV[9],
  'attempts', ARGV[10], 'first', ARGV[11], 'last', ARGV[12], 'at', ARGV[13])
redis.call('HSET', index, ARGV[5], id)
return 1
`);

/** KEYS: dead letters, index. ARGV: event id. The entry { id, fields }, or nil. */
export const deadLetterGetScript = new LuaScript(`
local id = redis.call('HGET', KEYS[2], ARGV[1])
if not id then return nil end
return redis.call('XRANGE', KEYS[1], id, id)[1]
`);

/** KEYS: stream, dead letters, index. ARGV: event id. 1 when replayed, 0 when not found. */
export const replayScript = new LuaScript(`
${FIELDS}
local id = redis.call('HGET', KEYS[3], ARGV[1])
if not id then return 0 end
redis.call('HDEL', KEYS[3], ARGV[1])
local entry = redis.call('XRANGE', KEYS[2], id, id)[1]
if not entry then return 0 end
add_fresh(KEYS[1], fields(entry[2]))
redis.call('XDEL', KEYS[2], id)
return 1
`);

/**
 * KEYS: stream, dead letters, index. ARGV: last entry id to include, chunk size. Replays the
 * oldest chunk up to that id; the caller repeats while whole chunks come back.
 */
export const replayChunkScript = new LuaScript(`
${FIELDS}
local entries = redis.call('XRANGE', KEYS[2], '-', ARGV[1], 'COUNT', tonumber(ARGV[2]))
for _, entry in ipairs(entries) do
  local f = fields(entry[2])
  add_fresh(KEYS[1], f)
  redis.call('XDEL', KEYS[2], entry[1])
  redis.call('HDEL', KEYS[3], f.id)
end
return #entries
`);

/** KEYS: dead letters, index. ARGV: event id, or nothing for all. Returns how many were removed. */
export const purgeScript = new LuaScript(`
if #ARGV == 0 then
  local n = redis.call('XLEN', KEYS[1])
  redis.call('DEL', KEYS[1], KEYS[2])
  return n
end
local id = redis.call('HGET', KEYS[2], ARGV[1])
if not id then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
return redis.call('XDEL', KEYS[1], id)
`);

/**
 * KEYS: stream. ARGV: group, consumer, forget-after ms. Deletes this consumer when it holds
 * nothing, and consumers gone quiet that long holding nothing (they died), so the group's
 * consumer list does not grow with every process that ever ran. A consumer holding entries is
 * never deleted: that would orphan them.
 */
export const forgetConsumersScript = new LuaScript(`
local stream, group, me, quiet = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3])
local forgotten = 0
for _, info in ipairs(redis.call('XINFO', 'CONSUMERS', stream, group)) do
  local c = {}
  for i = 1, #info, 2 do c[info[i]] = info[i + 1] end
  if c.pending == 0 and (c.name == me or c.idle >= quiet) then
    redis.call('XGROUP', 'DELCONSUMER', stream, group, c.name)
    forgotten = forgotten + 1
  end
end
return forgotten
`);

/**
 * KEYS: stream, delayed, dead letters. ARGV: group. Reads the group's figures without touching an
 * entry's body: { stream length, pending entries, delayed retries, dead letters, time (ms) of the
 * oldest entry not yet delivered or -1, server time ms }. Acked entries are deleted from the
 * stream, so what is in it and not pending has not been delivered yet.
 */
export const statsScript = new LuaScript(`
${TIME_MS}
${FIELDS}
local stream, group = KEYS[1], ARGV[1]
local length = redis.call('XLEN', stream)
local pending, last = 0, '0-0'
local groups = redis.pcall('XINFO', 'GROUPS', stream)
if type(groups) == 'table' and not groups.err then
  for _, flat in ipairs(groups) do
    local g = fields(flat)
    if g.name == group then pending, last = g.pending, g['last-delivered-id'] end
  end
end
local oldest = -1
local next = redis.call('XRANGE', stream, '(' .. last, '+', 'COUNT', 1)[1]
if next then oldest = tonumber(string.match(next[1], '^(%d+)')) end
return { length, pending, redis.call('ZCARD', KEYS[2]), redis.call('XLEN', KEYS[3]), oldest, now_ms() }
`);
