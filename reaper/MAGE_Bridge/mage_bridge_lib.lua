-- @noindex
-- @version 1.3.0
-- MAGE Bridge: shared code of the REAPER scripts (loaded with dofile; defines no globals).
--
-- The scripts talk to the daemon (`mage-bridge serve`) through files in its state folder:
--   spool/<req_id>.json            job requests and context reports (written to a temp name, then renamed)
--   outbox/reaper/<job_id>.json    how each job of this REAPER ended (done / failed / cancelled / rejected)
--   heartbeat.json                 rewritten every second by a running daemon (with its OSC port)
-- Where LuaSocket can be loaded (require "socket"), job requests and the Listener's context reports go
-- over OSC (UDP to 127.0.0.1:<port>) instead of the spool, with the same fields; the result still comes
-- back through the outbox. Nothing here waits on the daemon inside REAPER's main thread: sockets are
-- non-blocking and answers are read by deferred calls. See docs/daw.md for the full contract.

local M = {}

M.CLIENT_ID = "reaper"
M.EXT = "MAGE_Bridge"
M.TITLE = "MAGE Bridge"
M.HEARTBEAT_STALE_S = 5
M.SEP = package.config:sub(1, 1)
M.ITEM_MANIFEST_KEY = "mage_manifest" -- item ext state (P_EXT) naming the manifest of the clip an item plays

---------------------------------------------------------------------------------------------------
-- JSON (enough for manifests, outbox records and spool requests)
---------------------------------------------------------------------------------------------------
M.null = setmetatable({}, { __tostring = function() return "null" end })

local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
                  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

local function is_array(t)
  local n = 0
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 then return false end
    n = n + 1
  end
  return n == #t and (n > 0 or getmetatable(t) == M.array_mt)
end

M.array_mt = {}

local function encode(value, out)
  local kind = type(value)
  if value == nil or value == M.null then
    out[#out + 1] = "null"
  elseif kind == "boolean" then
    out[#out + 1] = tostring(value)
  elseif kind == "number" then
    if value ~= value or value == math.huge or value == -math.huge then
      error("cannot encode " .. tostring(value) .. " as JSON")
    end
    out[#out + 1] = math.type(value) == "integer" and tostring(value) or string.format("%.17g", value)
  elseif kind == "string" then
    out[#out + 1] = encode_string(value)
  elseif kind == "table" then
    if is_array(value) then
      out[#out + 1] = "["
      for i, v in ipairs(value) do
        if i > 1 then out[#out + 1] = "," end
        encode(v, out)
      end
      out[#out + 1] = "]"
    else
      local keys = {}
      for k in pairs(value) do keys[#keys + 1] = tostring(k) end
      table.sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        out[#out + 1] = encode_string(k) .. ":"
        encode(value[k], out)
      end
      out[#out + 1] = "}"
    end
  else
    error("cannot encode a " .. kind .. " as JSON")
  end
end

function M.json_encode(value)
  local out = {}
  encode(value, out)
  return table.concat(out)
end

local function utf8_char(code)
  return utf8.char(code)
end

local function decode_error(text, pos, what)
  error(string.format("invalid JSON at character %d: %s", pos, what), 0)
end

local decode_value

local function skip(text, pos)
  return text:find("[^ \t\r\n]", pos) or #text + 1
end

local function decode_string(text, pos)
  local parts, i = {}, pos + 1
  while true do
    local c = text:sub(i, i)
    if c == "" then decode_error(text, i, "unterminated string") end
    if c == '"' then return table.concat(parts), i + 1 end
    if c == "\\" then
      local e = text:sub(i + 1, i + 1)
      local simple = ({ b = "\b", f = "\f", n = "\n", r = "\r", t = "\t", ['"'] = '"', ["\\"] = "\\", ["/"] = "/" })[e]
      if simple then
        parts[#parts + 1] = simple
        i = i + 2
      elseif e == "u" then
        local code = tonumber(text:sub(i + 2, i + 5), 16)
        if not code then decode_error(text, i, "bad \\u escape") end
        i = i + 6
        if code >= 0xD800 and code <= 0xDBFF and text:sub(i, i + 1) == "\\u" then
          local low = tonumber(text:sub(i + 2, i + 5), 16)
          if low and low >= 0xDC00 and low <= 0xDFFF then
            code = 0x10000 + (code - 0xD800) * 0x400 + (low - 0xDC00)
            i = i + 6
          end
        end
        parts[#parts + 1] = utf8_char(code)
      else
        decode_error(text, i, "bad escape")
      end
    else
      local j = text:find('["\\]', i) or #text + 1
      parts[#parts + 1] = text:sub(i, j - 1)
      i = j
    end
  end
end

decode_value = function(text, pos)
  pos = skip(text, pos)
  local c = text:sub(pos, pos)
  if c == "{" then
    local obj = {}
    pos = skip(text, pos + 1)
    if text:sub(pos, pos) == "}" then return obj, pos + 1 end
    while true do
      if text:sub(pos, pos) ~= '"' then decode_error(text, pos, "expected a key") end
      local key
      key, pos = decode_string(text, pos)
      pos = skip(text, pos)
      if text:sub(pos, pos) ~= ":" then decode_error(text, pos, "expected ':'") end
      local value
      value, pos = decode_value(text, pos + 1)
      obj[key] = value
      pos = skip(text, pos)
      local d = text:sub(pos, pos)
      if d == "}" then return obj, pos + 1 end
      if d ~= "," then decode_error(text, pos, "expected ',' or '}'") end
      pos = skip(text, pos + 1)
    end
  elseif c == "[" then
    local arr = setmetatable({}, M.array_mt)
    pos = skip(text, pos + 1)
    if text:sub(pos, pos) == "]" then return arr, pos + 1 end
    while true do
      local value
      value, pos = decode_value(text, pos)
      arr[#arr + 1] = value
      pos = skip(text, pos)
      local d = text:sub(pos, pos)
      if d == "]" then return arr, pos + 1 end
      if d ~= "," then decode_error(text, pos, "expected ',' or ']'") end
      pos = pos + 1
    end
  elseif c == '"' then
    return decode_string(text, pos)
  elseif text:sub(pos, pos + 3) == "true" then
    return true, pos + 4
  elseif text:sub(pos, pos + 4) == "false" then
    return false, pos + 5
  elseif text:sub(pos, pos + 3) == "null" then
    return M.null, pos + 4
  else
    local num = text:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
    if not num or num == "" then decode_error(text, pos, "unexpected character") end
    return tonumber(num), pos + #num
  end
end

--- Decode JSON text; returns value or nil, message.
function M.json_decode(text)
  local ok, value, pos = pcall(decode_value, text, 1)
  if not ok then return nil, value end
  if skip(text, pos) <= #text then return nil, "trailing characters after JSON" end
  return value
end

--- A JSON field that may be null or missing: nil in both cases.
function M.field(t, key)
  local v = type(t) == "table" and t[key] or nil
  if v == M.null then return nil end
  return v
end

---------------------------------------------------------------------------------------------------
-- files and folders
---------------------------------------------------------------------------------------------------
function M.join(...)
  return table.concat({ ... }, M.SEP)
end

function M.read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

--- Write text to a temp name beside path, then rename it into place (readers never see half a file).
function M.write_atomic(path, text)
  local dir, name = path:match("^(.*)[/\\]([^/\\]+)$")
  local tmp = M.join(dir, "." .. name .. ".tmp")
  local f, err = io.open(tmp, "wb")
  if not f then return nil, err end
  f:write(text)
  f:close()
  local ok, rename_err = os.rename(tmp, path)
  if not ok then
    os.remove(path) -- Windows cannot rename onto an existing file
    ok, rename_err = os.rename(tmp, path)
  end
  if not ok then
    os.remove(tmp)
    return nil, rename_err
  end
  return true
end

function M.read_json(path)
  local text = M.read_file(path)
  if not text then return nil, "cannot read " .. path end
  local value, err = M.json_decode(text)
  if value == nil then return nil, path .. ": " .. tostring(err) end
  return value
end

--- The names of the files in a folder whose names end in suffix, sorted (hidden ones skipped).
--- REAPER serves EnumerateFiles from a cached listing of the folder; index -1 makes it read the folder
--- again ("force re-read of directory"), else a file written since the first look stays unseen.
function M.list_files(dir, suffix)
  reaper.EnumerateFiles(dir, -1)
  local names, i = {}, 0
  while true do
    local name = reaper.EnumerateFiles(dir, i)
    if not name then break end
    if name:sub(1, 1) ~= "." and name:sub(-#suffix) == suffix then names[#names + 1] = name end
    i = i + 1
  end
  table.sort(names)
  return names
end

---------------------------------------------------------------------------------------------------
-- where the daemon lives, and whether it is alive
---------------------------------------------------------------------------------------------------
local function home()
  return os.getenv("HOME") or os.getenv("USERPROFILE") or "."
end

--- The daemon's state folder: $MAGE_STATE_DIR, the "state_dir" ext state, $MAGE_DATA_DIR/state,
--- or the daemon's default (~/.local/share/mage-bridge/state, $XDG_DATA_HOME honoured).
function M.state_dir()
  local env = os.getenv("MAGE_STATE_DIR")
  if env and env ~= "" then return env end
  local ext = reaper.GetExtState(M.EXT, "state_dir")
  if ext and ext ~= "" then return ext end
  local data = os.getenv("MAGE_DATA_DIR")
  if not data or data == "" then
    local xdg = os.getenv("XDG_DATA_HOME")
    data = M.join((xdg and xdg ~= "") and xdg or M.join(home(), ".local", "share"), "mage-bridge")
  end
  return M.join(data, "state")
end

--- The daemon's heartbeat (a table: pid, port, ...) if it is fresh; else nil and a message for the user.
function M.daemon_alive(state_dir)
  local path = M.join(state_dir, "heartbeat.json")
  local beat = M.read_json(path)
  local stamp = beat and tonumber(M.field(beat, "time"))
  if not stamp then
    return nil, "daemon not running: start `mage-bridge serve` (no heartbeat in " .. state_dir .. ")"
  end
  local stale = tonumber(M.field(beat, "stale_after_s")) or M.HEARTBEAT_STALE_S
  local age = os.time() - stamp
  if age > stale then
    return nil, string.format("daemon not running: start `mage-bridge serve` (its last heartbeat in %s is %d s old)",
      state_dir, math.floor(age))
  end
  return beat
end

function M.message(text)
  reaper.ShowMessageBox(text, M.TITLE, 0)
end

---------------------------------------------------------------------------------------------------
-- this project: identity and musical context
---------------------------------------------------------------------------------------------------
local function random_id()
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
  return string.format("%08x%08x", math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
end

--- The current project: its id (kept in the project's ext state), its file path and the project handle.
function M.project()
  local proj, path = reaper.EnumProjects(-1)
  local ok, id = reaper.GetProjExtState(proj, M.EXT, "project_id")
  if ok == 0 or not id or id == "" then
    id = random_id()
    reaper.SetProjExtState(proj, M.EXT, "project_id", id)
  end
  return { handle = proj, id = id, path = path or "" }
end

--- Tempo (quarter-note BPM), metre and edit cursor of the current project, at the cursor.
function M.context()
  local cursor = reaper.GetCursorPosition()
  local num, den, bpm = reaper.TimeMap_GetTimeSigAtTime(0, cursor)
  if not bpm or bpm <= 0 then bpm = reaper.Master_GetTempo() end
  return { bpm = bpm, numerator = math.floor(num or 4), denominator = math.floor(den or 4),
           cursor_s = math.max(0, cursor) }
end

---------------------------------------------------------------------------------------------------
-- OSC 1.0 messages (https://opensoundcontrol.stanford.edu/spec-1_0.html), pure Lua 5.3+
---------------------------------------------------------------------------------------------------
--- An OSC string: the bytes, a NUL, then NULs up to a multiple of 4 bytes (1 to 4 NULs in all).
local function osc_string(s)
  if s:find("\0", 1, true) then return nil, "an OSC string cannot hold a NUL character" end
  return s .. string.rep("\0", 4 - #s % 4)
end

--- Encode one OSC message. Each argument's type follows its Lua type: a string is `s`, an integer
--- `i` (int32), a float `f` (float32). Returns the datagram, or nil and a message.
function M.osc_encode(address, ...)
  if type(address) ~= "string" or address:sub(1, 1) ~= "/" then
    return nil, "an OSC address starts with /, got " .. tostring(address)
  end
  local tags, data = { "," }, {}
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    local kind = math.type(v) or type(v)
    if kind == "string" then
      local s, err = osc_string(v)
      if not s then return nil, err end
      tags[#tags + 1], data[#data + 1] = "s", s
    elseif kind == "integer" then
      if v < -0x80000000 or v > 0x7fffffff then return nil, "an OSC int is 32 bits, got " .. v end
      tags[#tags + 1], data[#data + 1] = "i", string.pack(">i4", v)
    elseif kind == "float" then
      tags[#tags + 1], data[#data + 1] = "f", string.pack(">f", v)
    else
      return nil, "cannot send a " .. kind .. " over OSC"
    end
  end
  local addr, err = osc_string(address)
  if not addr then return nil, err end
  return addr .. osc_string(table.concat(tags)) .. table.concat(data)
end

local function osc_read_string(data, pos)
  local nul = data:find("\0", pos, true)
  if not nul then error("unterminated OSC string", 0) end
  local len = nul - pos
  return data:sub(pos, nul - 1), pos + len + 4 - len % 4
end

--- Decode one OSC message (not a bundle) with s/i/f/T/F/N arguments: {address = ..., args = {...}}, or
--- nil and a message.
function M.osc_decode(data)
  local ok, msg = pcall(function()
    local address, pos = osc_read_string(data, 1)
    if address:sub(1, 1) ~= "/" then error("not an OSC message", 0) end
    local tags
    tags, pos = osc_read_string(data, pos)
    if tags:sub(1, 1) ~= "," then error("no OSC type tags", 0) end
    local args = {}
    for i = 2, #tags do
      local t = tags:sub(i, i)
      if t == "s" then
        args[#args + 1], pos = osc_read_string(data, pos)
      elseif t == "i" then
        args[#args + 1], pos = string.unpack(">i4", data, pos)
      elseif t == "f" then
        args[#args + 1], pos = string.unpack(">f", data, pos)
      elseif t == "T" or t == "F" or t == "N" then
        args[#args + 1] = ({ T = true, F = false, N = M.null })[t]
      else
        error("OSC type tag " .. t .. " is not understood here", 0)
      end
    end
    return { address = address, args = args }
  end)
  if not ok then return nil, msg end
  return msg
end

---------------------------------------------------------------------------------------------------
-- submitting: OSC where LuaSocket loads, else (and whenever OSC fails) the spool folder
---------------------------------------------------------------------------------------------------
M.OSC_HOST = "127.0.0.1"
M.OSC_TIMEOUT_S = 2.0       -- wait this long for /mage/job/accepted before using the spool instead
M.OSC_MAX_BYTES = 60000     -- larger requests (very long lyrics) go through the spool
M.OSC_RETRY_S = 60          -- after OSC to a daemon failed, use the spool this long before trying again
M.OSC_KINDS = { generate = true, separate = true, enhance = true, master = true, repaint = true, extend = true,
                cover = true, lego = true, extract = true, retake = true }
-- Errors that mean "this daemon did not understand the message" (an older daemon, a bug here): the
-- spool is tried. Any other /mage/error is the daemon's answer to the request and is shown as is.
local OSC_NOT_UNDERSTOOD = { malformed = true, unknown_address = true, bad_arguments = true }

--- Where REAPER users get LuaSocket: the "Mavriq Lua Sockets" ReaPack package (Mavriq ReaScript
--- Repository) installs socket.lua and socket/core.{dll,so} here; the ordinary package paths come first.
local function add_socket_paths()
  local base = reaper.GetResourcePath and reaper.GetResourcePath()
  if not base or base == "" then return end
  local dir = M.join(base, "Scripts", "Mavriq ReaScript Repository", "Various", "Mavriq-Lua-Sockets") .. M.SEP
  if not package.path:find(dir, 1, true) then package.path = package.path .. ";" .. dir .. "?.lua" end
  if not package.cpath:find(dir, 1, true) then
    package.cpath = package.cpath .. ";" .. dir .. "?.dll" .. ";" .. dir .. "?.so"
  end
end

local socket_lib, socket_why

--- LuaSocket's `socket` module, or nil and why not (looked up once per script run).
function M.socket()
  if socket_lib == nil and socket_why == nil then
    add_socket_paths()
    local ok, lib = pcall(require, "socket")
    if ok and type(lib) == "table" and lib.udp then
      socket_lib = lib
    else
      socket_lib, socket_why = false, (ok and "require \"socket\" gave no socket.udp" or tostring(lib))
    end
  end
  return socket_lib or nil, socket_why
end

--- Say in the ReaScript console how jobs reach the daemon, once per REAPER session (and on every change).
local function say_transport(key, text)
  if reaper.GetExtState(M.EXT, "transport_said") ~= key then
    reaper.SetExtState(M.EXT, "transport_said", key, false)
    reaper.ShowConsoleMsg("MAGE Bridge: " .. text .. "\n")
  end
end

--- The OSC message for a request: /mage/generate s:req_id s:prompt s:lyrics s:options_json or
--- /mage/<kind> s:req_id s:audio_path s:options_json, the DAW fields in options_json's "daw" object.
local function osc_message(request)
  local options = {}
  for k, v in pairs(request.options or {}) do options[k] = v end
  options.daw = { client_id = request.client_id, project_id = request.project_id,
                  project_path = request.project_path, context = request.context, position = request.position,
                  take_offset_s = request.take_offset_s, length_s = request.length_s, play_rate = request.play_rate,
                  align = request.align, label = request.label }
  local ok, options_json = pcall(M.json_encode, options)
  if not ok then return nil, options_json end
  local address = "/mage/" .. request.kind
  if request.kind == "generate" then
    return M.osc_encode(address, request.req_id, request.prompt or "", request.lyrics or "", options_json)
  end
  return M.osc_encode(address, request.req_id, request.audio_path or "", options_json)
end

--- A UDP socket aimed at the daemon that never waits (settimeout(0)); nil and why on failure.
local function open_udp(socket, port)
  local udp, err = socket.udp()
  if not udp then return nil, "cannot open a UDP socket: " .. tostring(err) end
  local ok, perr = udp:setpeername(M.OSC_HOST, port)
  if not ok then
    udp:close()
    return nil, "cannot address " .. M.OSC_HOST .. ":" .. port .. ": " .. tostring(perr)
  end
  udp:settimeout(0)
  return udp
end

--- LuaSocket, the daemon's OSC port and a key naming this daemon run ("pid:port"), or nil and why OSC is
--- not used. `say` (nil for silence) tells the user, once, why jobs go through the spool.
local function osc_target(beat, state, say)
  say = say or function() end
  if reaper.GetExtState(M.EXT, "transport") == "spool" then
    say("spool:forced", "jobs go through the spool folder (ext state MAGE_Bridge/transport is \"spool\")")
    return nil, "spool chosen"
  end
  local socket, why = M.socket()
  if not socket then
    say("spool:no-socket", "jobs go through the spool folder " .. M.join(state, "spool")
      .. " (LuaSocket not found: " .. tostring(why):match("^[^\n]*") .. "; install \"Mavriq Lua Sockets\""
      .. " with ReaPack to send jobs over OSC)")
    return nil, why
  end
  local port = math.tointeger(tonumber(M.field(beat, "port")))
  if not port or port < 1 or port > 65535 then
    say("spool:no-port", "jobs go through the spool folder (the heartbeat names no OSC port)")
    return nil, "no port"
  end
  local daemon = tostring(M.field(beat, "pid")) .. ":" .. port
  local failed, failed_at = reaper.GetExtState(M.EXT, "osc_failed"):match("^(.*)@(%d+)$")
  if failed == daemon and os.time() - tonumber(failed_at) < M.OSC_RETRY_S then
    return nil, "OSC to this daemon failed a moment ago" -- said when it failed
  end
  return socket, port, daemon
end

--- Remember (for OSC_RETRY_S) that OSC to this daemon did not get through, and say so once.
local function osc_failed(daemon, port, why, state)
  reaper.SetExtState(M.EXT, "osc_failed", daemon .. "@" .. os.time(), false)
  say_transport("spool:osc-failed:" .. daemon, "OSC to the daemon at " .. M.OSC_HOST .. ":" .. port .. " failed ("
    .. tostring(why) .. "); jobs go through the spool folder " .. M.join(state, "spool") .. " instead")
end

local function new_req_id(kind)
  return string.format("reaper-%s-%s", kind, random_id())
end

--- Write a request into the spool folder (temp name, then rename). Returns true or nil, message.
local function spool_request(request, state, name)
  local spool = M.join(state, "spool")
  reaper.RecursiveCreateDirectory(spool, 0)
  local ok, err = M.write_atomic(M.join(spool, name or (request.req_id .. ".json")), M.json_encode(request))
  if not ok then return nil, "cannot write to the spool folder " .. spool .. ": " .. tostring(err) end
  return true
end

--- A new request of this REAPER: client, project and the musical context at this moment, plus fields.
local function new_request(kind, fields)
  local project = M.project()
  local request = { schema = "mage-bridge/spool@1", kind = kind, req_id = new_req_id(kind),
                    client_id = M.CLIENT_ID, project_id = project.id, project_path = project.path,
                    context = M.context() }
  for k, v in pairs(fields or {}) do request[k] = v end
  return request
end

--- Send a request to the daemon without waiting for anything: over OSC when LuaSocket is there (jobs
--- only), else as a spool file. fields: prompt / audio_path / options / position ...
--- Returns req_id and, when the request went over OSC, a pending submission whose answer
--- M.poll_submission picks up later; nil and a message when nothing was sent (the daemon is down).
function M.submit(kind, fields)
  local state = M.state_dir()
  local beat, why = M.daemon_alive(state)
  if not beat then return nil, why end
  local request = new_request(kind, fields)
  if M.OSC_KINDS[kind] then
    local socket, port, daemon = osc_target(beat, state, say_transport)
    local datagram, err
    if socket then
      datagram, err = osc_message(request)
      if datagram and #datagram > M.OSC_MAX_BYTES then datagram = nil end -- too large: the spool takes it
    end
    if datagram then
      local udp, uerr = open_udp(socket, port)
      local sent, serr = nil, uerr
      if udp then sent, serr = udp:send(datagram) end
      if sent then
        return request.req_id, { request = request, udp = udp, state = state, port = port, daemon = daemon,
                                 version = socket._VERSION, deadline = reaper.time_precise() + M.OSC_TIMEOUT_S }
      end
      if udp then udp:close() end
      osc_failed(daemon, port, "cannot send: " .. tostring(serr), state)
    elseif socket and err then
      reaper.ShowConsoleMsg("MAGE Bridge: " .. tostring(err) .. "; the request goes through the spool folder\n")
    end
  end
  local ok, err = spool_request(request, state)
  if not ok then return nil, err end
  return request.req_id
end

--- Settle a pending submission: close its socket and remember the outcome (returned again by later polls).
local function settle(pending, result, detail)
  pending.udp:close()
  pending.settled, pending.result, pending.detail = true, result, detail
  return result, detail
end

--- The daemon did not take a request over OSC: the same request goes to the spool (the daemon takes a
--- client's req_id once, whichever way it came first). Returns "spooled", or nil and a message.
local function fall_back(pending, why)
  osc_failed(pending.daemon, pending.port, why, pending.state)
  local ok, err = spool_request(pending.request, pending.state)
  if not ok then return settle(pending, nil, err) end
  return settle(pending, "spooled")
end

--- Look (without waiting) for the daemon's answer to a request sent over OSC. Returns "waiting";
--- "accepted", job_id; "refused", message; "spooled" (no answer within OSC_TIMEOUT_S, or OSC failed:
--- the request went to the spool); or nil and a message when even the spool could not take it.
function M.poll_submission(pending)
  if pending.settled then return pending.result, pending.detail end
  local req_id = pending.request.req_id
  while true do
    local data, err = pending.udp:receive()
    if not data then
      if err == "timeout" then break end -- nothing more right now
      return fall_back(pending, err) -- e.g. "connection refused": nothing listens on that port
    end
    local msg = M.osc_decode(data)
    local args = msg and msg.args or {}
    local answer = msg and (msg.address == "/mage/job/accepted" and args[1] == req_id
      or msg.address == "/mage/error" and (args[1] == req_id or args[1] == ""))
    if answer and msg.address == "/mage/error" and OSC_NOT_UNDERSTOOD[args[2]] then
      return fall_back(pending, "the daemon did not understand: " .. tostring(args[3]))
    end
    if answer then
      say_transport("osc:" .. pending.daemon, "jobs go to the daemon over OSC (" .. M.OSC_HOST .. ":"
        .. pending.port .. ", " .. tostring(pending.version or "LuaSocket") .. ")")
      if msg.address == "/mage/job/accepted" then return settle(pending, "accepted", args[2]) end
      return settle(pending, "refused", string.format("MAGE %s request refused: %s: %s", pending.request.kind,
        tostring(args[2]), tostring(args[3])))
    end -- anything else (another reply, an event): keep reading
  end
  if reaper.time_precise() >= pending.deadline then
    return fall_back(pending, string.format("no answer within %.1f s", M.OSC_TIMEOUT_S))
  end
  return "waiting"
end

--- The script ends before the daemon answered: the request goes to the spool as well, so nothing is
--- lost (the daemon de-duplicates the client's req_id).
function M.abandon_submission(pending)
  if pending.settled then return end
  local ok, err = spool_request(pending.request, pending.state)
  settle(pending, ok and "spooled" or nil, err)
  if not ok then reaper.ShowConsoleMsg("MAGE Bridge: " .. err .. "\n") end
end

--- Tell the user (once) when no listener is there to pick the result up.
function M.warn_without_listener()
  local beat = tonumber(reaper.GetExtState(M.EXT, "listener_beat"))
  if not beat or os.time() - beat > 3 then
    M.message("Job sent. Turn on \"MAGE - Listener\" to get the result into this project.")
  end
end

--- Start of every action script. The actions change nothing in the project themselves (the Listener
--- inserts results in its own undo block), and REAPER adds no automatic "ReaScript: Run" undo point
--- for a script that calls defer, so they defer a no-op. A second run while one still waits for the
--- daemon's answer ends the first (its request is spooled, see M.abandon_submission) and starts anew,
--- instead of REAPER's "ReaScript task control" dialog (set_action_options, REAPER 7.03+).
function M.begin_action()
  reaper.defer(function() end)
  if reaper.set_action_options then reaper.set_action_options(1 | 2) end
end

--- Send a job from an action and return at once: REAPER's UI never waits for the daemon. Over OSC, the
--- answer is picked up by deferred calls; a refusal is said, and no answer within OSC_TIMEOUT_S sends
--- the same request through the spool.
function M.send_job(kind, fields)
  local req_id, pending = M.submit(kind, fields)
  if not req_id then return M.message(pending) end
  if not pending then return M.warn_without_listener() end
  reaper.atexit(function() M.abandon_submission(pending) end)
  local function wait()
    local result, detail = M.poll_submission(pending)
    if result == "waiting" then return reaper.defer(wait) end
    if result == "refused" or result == nil then return M.message(detail) end
    M.warn_without_listener()
  end
  reaper.defer(wait)
end

--- The selected audio item's file, position and trim (what separate and master work on).
function M.selected_audio_item()
  local item = reaper.GetSelectedMediaItem(0, 0)
  if not item then return nil, "select an audio item first" end
  local take = reaper.GetActiveTake(item)
  if not take or reaper.TakeIsMIDI(take) then return nil, "the selected item has no audio take" end
  local source = reaper.GetMediaItemTake_Source(take)
  local parent = source and reaper.GetMediaSourceParent(source)
  local file = reaper.GetMediaSourceFileName(parent or source, "")
  if not file or file == "" then return nil, "the selected item's take has no audio file" end
  if not reaper.file_exists(file) then return nil, "file missing: " .. file end
  local _, take_name = reaper.GetSetMediaItemTakeInfo_String(take, "P_NAME", "", false)
  return {
    file = file,
    name = (take_name ~= "" and take_name) or file:match("([^/\\]+)$"),
    position = reaper.GetMediaItemInfo_Value(item, "D_POSITION"),
    length = reaper.GetMediaItemInfo_Value(item, "D_LENGTH"),
    take_offset = reaper.GetMediaItemTakeInfo_Value(take, "D_STARTOFFS"),
  }
end

--- The whole "MAGE: <kind> selected item" action: the selected item's file to the daemon, the result
--- lined up with the item (same position, length and take offset) when the Listener brings it back.
function M.send_selected_item(kind)
  M.begin_action()
  local alive, why = M.daemon_alive(M.state_dir())
  if not alive then return M.message(why) end
  local item, err = M.selected_audio_item()
  if not item then return M.message("Nothing sent: " .. err .. ".") end
  M.send_job(kind, { audio_path = item.file, position = { seconds = item.position },
                     take_offset_s = item.take_offset, length_s = item.length })
end

---------------------------------------------------------------------------------------------------
-- reporting this project's context (the Listener)
---------------------------------------------------------------------------------------------------
M.CONTEXT_REFRESH_S = 2.0      -- re-send an unchanged context this often (the daemon forgets a DAW after 30 s)
M.CONTEXT_SPOOL_GAP_S = 0.1    -- through the spool, at most one report per look of the daemon at the folder

--- What the daemon is told about the current project: tempo, metre and edit cursor (M.context), its
--- id and its file path.
function M.context_report()
  local project = M.project()
  local report = M.context()
  report.project_id, report.project_path = project.id, project.path
  return report
end

--- Whether two reports say the same (a cursor that moved less than 1 ms has not moved).
function M.same_report(a, b)
  return a ~= nil and b ~= nil and a.bpm == b.bpm and a.numerator == b.numerator
    and a.denominator == b.denominator and math.abs(a.cursor_s - b.cursor_s) < 1e-3
    and a.project_id == b.project_id and a.project_path == b.project_path
end

local function close_link(link)
  if link.udp then
    -- The daemon binds the client id to this socket while it reports; say goodbye so the next socket
    -- (a restarted Listener) may report at once instead of after the daemon's 30 s timeout.
    local bye = M.osc_encode("/mage/daw/bye", M.CLIENT_ID)
    if bye then pcall(link.udp.send, link.udp, bye) end
    link.udp:close()
  end
  link.udp, link.daemon, link.port = nil, nil, nil
end

--- Send a context report without waiting for anything. Over OSC where LuaSocket loads:
--- /mage/daw/context f:bpm i:numerator i:denominator f:cursor_s s:client_id s:project_id s:project_path
--- on the link's UDP socket (the daemon then sends this client's job events to that socket too);
--- else a spool request of kind "context". `link` is a table the caller keeps between calls.
--- Returns "osc", "spool", "later" (through the spool, sent a moment ago) or nil and a message.
function M.send_context(link, beat, state, report)
  local socket, port, daemon = osc_target(beat, state, nil)
  if socket then
    if link.daemon ~= daemon then
      close_link(link)
      local udp, err = open_udp(socket, port)
      if not udp then return nil, err end
      link.udp, link.daemon, link.port = udp, daemon, port
    end
    local datagram, err = M.osc_encode("/mage/daw/context", report.bpm + 0.0, math.tointeger(report.numerator),
      math.tointeger(report.denominator), report.cursor_s + 0.0, M.CLIENT_ID, report.project_id or "",
      report.project_path or "")
    if not datagram then return nil, err end
    local sent, serr = link.udp:send(datagram)
    if sent then return "osc" end
    osc_failed(daemon, port, "cannot send: " .. tostring(serr), state)
    close_link(link)
  elseif link.udp then
    close_link(link)
  end
  local now = reaper.time_precise()
  if link.spooled_at and now - link.spooled_at < M.CONTEXT_SPOOL_GAP_S then return "later" end
  local request = { schema = "mage-bridge/spool@1", kind = "context", req_id = new_req_id("context"),
                    client_id = M.CLIENT_ID, project_id = report.project_id, project_path = report.project_path,
                    context = { bpm = report.bpm, numerator = report.numerator, denominator = report.denominator,
                                cursor_s = report.cursor_s } }
  local ok, err = spool_request(request, state)
  if not ok then return nil, err end
  link.spooled_at = now
  return "spool"
end

--- Read (without waiting) what the daemon sent to the link's socket: the acks of context reports and
--- the events of this client's jobs. Returns a list of decoded messages; nil and a message when the
--- socket failed (e.g. nothing listens on the daemon's port any more), after closing it.
function M.drain_link(link, state)
  local out = {}
  if not link.udp then return out end
  for _ = 1, 256 do
    local data, err = link.udp:receive()
    if not data then
      if err == "timeout" then return out end
      osc_failed(link.daemon, link.port, err, state)
      close_link(link)
      return nil, err
    end
    local msg = M.osc_decode(data)
    if msg then out[#out + 1] = msg end
  end
  return out
end

function M.close_link(link)
  close_link(link)
end

---------------------------------------------------------------------------------------------------
-- inserting a result
---------------------------------------------------------------------------------------------------
local STEM_ORDER = { vocals = 1, drums = 2, bass = 3, other = 4 }

local function dirname(path)
  return path:match("^(.*)[/\\][^/\\]*$") or "."
end

local function is_absolute(path)
  return path:sub(1, 1) == "/" or path:match("^%a:[/\\]") ~= nil or path:sub(1, 2) == "\\\\"
end

--- (name, absolute path) of each file a manifest brings, stems in the usual order.
local function result_files(manifest, manifest_path)
  local base, files = dirname(manifest_path), {}
  local stems = M.field(manifest, "stems")
  if type(stems) == "table" and next(stems) then
    for name, rel in pairs(stems) do files[#files + 1] = { name = name, rel = rel } end
  elseif M.field(manifest, "output") then
    files[1] = { name = M.field(manifest, "kind") or "result", rel = M.field(manifest, "output") }
  end
  table.sort(files, function(a, b)
    local ra, rb = STEM_ORDER[a.name] or 99, STEM_ORDER[b.name] or 99
    if ra ~= rb then return ra < rb end
    return a.name < b.name
  end)
  for _, f in ipairs(files) do
    f.path = is_absolute(f.rel) and f.rel or M.join(base, f.rel)
  end
  return files
end

local KIND_NAMES = { generate = { "MAGE", "generated clip" }, separate = { "MAGE stems", "stems" },
                     master = { "MAGE master", "master" }, enhance = { "MAGE enhanced", "enhanced" } }

--- What an edit of a MAGE clip is called ("repaint 12.0-16.0 s", "extend after", "lego drums"): the label
--- the DAW script sent with the request, else read from the result's manifest (`lineage`); nil otherwise.
local function edit_label(kind, placement, manifest)
  local label = M.field(placement, "label")
  if type(label) == "string" and label ~= "" then return label end
  local lineage = M.field(manifest, "lineage")
  if type(lineage) ~= "table" or not M.field(lineage, "task") then return nil end
  local range, side = M.field(lineage, "range"), M.field(lineage, "side")
  local track = M.field(M.field(manifest, "request") or {}, "track") or M.field(lineage, "track")
  if type(range) == "table" and tonumber(range[1]) and tonumber(range[2]) then
    return string.format("%s %.1f-%.1f s", kind, range[1], range[2])
  elseif type(side) == "string" then
    return kind .. " " .. side
  elseif type(track) == "string" then
    return kind .. " " .. track
  end
  return kind
end

--- The folder track's name ("MAGE: <prompt>", "MAGE stems: <file>", "MAGE repaint 12.0-16.0 s") and the
--- undo point's ("MAGE: insert generated clip: <prompt>", "MAGE: insert stems: <file>").
local function result_names(record, manifest)
  local kind = M.field(record, "kind") or M.field(manifest, "kind") or "result"
  local edit = kind ~= "generate" and edit_label(kind, M.field(record, "placement") or {}, manifest)
  if edit then return "MAGE " .. edit, "MAGE: insert " .. edit end
  local request = M.field(manifest, "request") or {}
  local label = M.field(request, "prompt")
  if not label then
    local parent = M.field(request, "audio_path") or ""
    label = parent:match("([^/\\]+)$") or parent
  end
  label = tostring(label or ""):gsub("%s+", " ")
  if #label > 60 then label = label:sub(1, 57) .. "..." end
  local names = KIND_NAMES[kind] or { "MAGE " .. kind, kind .. " result" }
  return names[1] .. ": " .. label, "MAGE: insert " .. names[2] .. ": " .. label
end

--- The bar line at or after `t` seconds on REAPER's tempo map (one less than 1 ms before `t` counts,
--- as in the daemon): its time and its measure index (0 = the first bar).
function M.bar_at_or_after(t)
  local _, measures = reaper.TimeMap2_timeToBeats(0, t)
  measures = math.floor(measures)
  local bar = reaper.TimeMap2_beatsToTime(0, 0, measures)
  if t - bar > 1e-3 then
    measures = measures + 1
    bar = reaper.TimeMap2_beatsToTime(0, 0, measures)
  end
  return bar, measures
end

--- Where a result goes, recomputed on REAPER's own tempo map (the daemon assumes a constant tempo):
--- the anchor (a requested position, the bar at or after the cursor the daemon was told about, or
--- the edit cursor when the daemon knew no context) and how the item lines up with it: align "body"
--- puts beat 1 after the lead-in on the anchor (the item starts `lead_in_s` earlier, moving on one bar
--- while that would be before the project start); align "start" starts the item at the anchor.
--- align "end" (an extension before its source clip) ends the item at the anchor (see M.insert_result).
--- Returns {anchor = s, measure = index or nil, align = "body"|"start"|"end"}.
function M.placement_anchor(placement)
  placement = type(placement) == "table" and placement or {}
  local mode, align = M.field(placement, "mode"), M.field(placement, "align")
  local seconds, beats = M.field(placement, "seconds"), M.field(placement, "beats")
  align = (align == "body" or align == "end") and align or "start"
  local anchor
  if mode == "requested" and seconds then
    anchor = seconds
  elseif mode == "requested" and beats then
    anchor = reaper.TimeMap2_QNToTime(0, beats)
  elseif mode == "next_bar" then
    local bar, measure = M.bar_at_or_after(M.field(placement, "cursor_s") or reaper.GetCursorPosition())
    return { anchor = bar, measure = measure, align = align }
  else
    anchor = reaper.GetCursorPosition()
    if align == "body" then
      local bar, measure = M.bar_at_or_after(anchor)
      return { anchor = bar, measure = measure, align = align }
    end
  end
  return { anchor = anchor, align = align }
end

--- The item start for an anchor and a lead-in (seconds of project time): anchor minus lead-in, the
--- anchor moved on by whole bars while that is before the project start. Returns start, anchor.
function M.item_start(where, lead_in)
  local anchor = where.anchor
  if where.align ~= "body" or not lead_in or lead_in <= 0 then return anchor, anchor end
  local measure = where.measure
  if not measure then anchor, measure = M.bar_at_or_after(anchor) end
  while anchor - lead_in < -1e-9 do
    measure = measure + 1
    anchor = reaper.TimeMap2_beatsToTime(0, 0, measure)
  end
  return math.max(0, anchor - lead_in), anchor
end

--- How a generated clip plays in this project. A clip made at the project's tempo (clip_bpm ==
--- placement.bpm) whose project changed tempo since the request is stretched to the tempo at the
--- anchor (take play rate, pitch kept), so it stays on the bars. A clip whose request asked for
--- another tempo plays at its own. Either way a difference is said in the ReaScript console.
--- Returns the play rate and a sentence for the console (or nil).
function M.tempo_fit(placement, anchor, name)
  local clip_bpm = tonumber(M.field(placement, "clip_bpm"))
  if not clip_bpm or clip_bpm <= 0 then return 1.0 end
  local _, _, project_bpm = reaper.TimeMap_GetTimeSigAtTime(0, anchor)
  if not project_bpm or project_bpm <= 0 then project_bpm = reaper.Master_GetTempo() end
  local octaves = math.log(project_bpm / clip_bpm, 2)
  if math.abs(octaves - math.floor(octaves + 0.5)) < 1e-4 then return 1.0 end -- beats on beats
  local _, measure = reaper.TimeMap2_timeToBeats(0, anchor)
  local where = string.format("bar %d", math.floor(measure) + 1)
  local asked_bpm = tonumber(M.field(placement, "bpm"))
  if asked_bpm and math.abs(asked_bpm - clip_bpm) < 1e-3 then
    local rate = project_bpm / clip_bpm
    return rate, string.format("%s was made at %.6g BPM, the project's tempo when it was asked for; the "
      .. "project plays %.6g BPM at %s now, so it plays at rate %.4f (pitch kept) to stay on the bars.",
      name, clip_bpm, project_bpm, where, rate)
  end
  return 1.0, string.format("%s is at %.6g BPM, as its request asked; the project plays %.6g BPM at %s, "
    .. "so the clip does not follow the project's bars (it is not stretched).", name, clip_bpm, project_bpm, where)
end

--- The MIDI parts of a generated clip (manifest "midi": one Standard MIDI File per part), when the
--- ext state MAGE_Bridge/insert_midi is "1". Returns a list of {name, path} or nil, message.
local function midi_files(manifest, manifest_path)
  if reaper.GetExtState(M.EXT, "insert_midi") ~= "1" then return {} end
  local midi = M.field(manifest, "midi")
  local parts = type(midi) == "table" and M.field(midi, "parts") or nil
  if type(parts) ~= "table" then return {} end
  local base, files = dirname(manifest_path), {}
  for _, part in ipairs(parts) do
    local rel = M.field(part, "file")
    if type(rel) == "string" and rel ~= "" then
      files[#files + 1] = { name = tostring(M.field(part, "name") or rel:match("([^/\\]+)%.%w+$") or rel) .. " (MIDI)",
                            path = is_absolute(rel) and rel or M.join(base, rel) }
    end
  end
  return files
end

--- Region colours of the sections a composer writes (REAPER's custom colour: ColorToNative(r, g, b)|0x1000000).
local SECTION_RGB = {
  intro = { 96, 125, 139 }, verse = { 67, 160, 71 }, pre = { 192, 202, 51 }, chorus = { 251, 140, 0 },
  bridge = { 142, 36, 170 }, build = { 253, 216, 53 }, drop = { 229, 57, 53 }, breakdown = { 30, 136, 229 },
  head = { 0, 137, 123 }, solo = { 216, 27, 96 }, outro = { 109, 76, 65 },
}
local OTHER_SECTION_RGB = { 158, 158, 158 }
local FRAMING_SECTIONS = { ["lead-in"] = true, ["lead-out"] = true }

--- The musical sections of a generated clip (manifest "structure": lead-in and lead-out left out) as
--- project regions {name, start, stop, color}. `position` is the item start, `rate` the take's play rate,
--- `take_offset` the take's start offset (seconds of the file) and `item_length` the item's length: a
--- section at `start_s` seconds of the file plays at position + (start_s - take_offset) / rate, and each
--- region is cut to the item. A name that comes back in the clip is numbered ("MAGE verse 1", "MAGE verse
--- 2"). Empty when the manifest has no structure, or the ext state MAGE_Bridge/insert_regions is "0".
function M.section_regions(manifest, position, rate, take_offset, item_length)
  if reaper.GetExtState(M.EXT, "insert_regions") == "0" then return {} end
  local structure = M.field(manifest, "structure")
  if type(structure) ~= "table" then return {} end
  local sections, count = {}, {}
  for _, s in ipairs(structure) do
    local name, start_s, end_s = M.field(s, "name"), tonumber(M.field(s, "start_s")), tonumber(M.field(s, "end_s"))
    if type(name) == "string" and name ~= "" and not FRAMING_SECTIONS[name] and start_s and end_s then
      sections[#sections + 1] = { name = name, start_s = start_s, end_s = end_s }
      count[name] = (count[name] or 0) + 1
    end
  end
  local regions, seen, item_end = {}, {}, position + item_length
  for _, s in ipairs(sections) do
    seen[s.name] = (seen[s.name] or 0) + 1
    local start = math.max(position, position + (s.start_s - (take_offset or 0)) / rate)
    local stop = math.min(item_end, position + (s.end_s - (take_offset or 0)) / rate)
    if stop - start > 1e-6 then
      local rgb = SECTION_RGB[s.name] or OTHER_SECTION_RGB
      regions[#regions + 1] = {
        name = "MAGE " .. s.name .. (count[s.name] > 1 and (" " .. seen[s.name]) or ""),
        start = start, stop = stop, color = reaper.ColorToNative(rgb[1], rgb[2], rgb[3]) | 0x1000000 }
    end
  end
  return regions
end

--- The lyrics of a clip with vocals (manifest "lyrics", docs/manifest.md): `text`, the tagged text ([verse],
--- [chorus], ...), and `lines`, each sung line in order as {text, section, start_s}: start_s is its first
--- syllable's start in seconds of the clip (of its files). A line with no sung syllable is left out, as in
--- lyrics.lrc. nil when the manifest has none (an instrumental clip, an edit), or the ext state
--- MAGE_Bridge/insert_lyrics is "0".
function M.clip_lyrics(manifest)
  if reaper.GetExtState(M.EXT, "insert_lyrics") == "0" then return nil end
  local lyrics = M.field(manifest, "lyrics")
  if type(lyrics) ~= "table" then return nil end
  local lines, tagged = {}, {}
  local sections = M.field(lyrics, "sections")
  for _, section in ipairs(type(sections) == "table" and sections or {}) do
    local name, texts = tostring(M.field(section, "name") or ""), M.field(section, "lines")
    tagged[#tagged + 1] = "[" .. name .. "]"
    for _, text in ipairs(type(texts) == "table" and texts or {}) do
      lines[#lines + 1] = { text = tostring(text), section = name }
      tagged[#tagged + 1] = tostring(text)
    end
  end
  local starts = {} -- line index (0-based, over all sections) -> its first syllable's start
  local syllables = M.field(lyrics, "syllables")
  for _, syllable in ipairs(type(syllables) == "table" and syllables or {}) do
    local index = math.tointeger(tonumber(M.field(syllable, "line")) or -1)
    local start = tonumber(M.field(syllable, "start"))
    if index and start and (not starts[index] or start < starts[index]) then starts[index] = start end
  end
  local sung = {}
  for i, line in ipairs(lines) do
    if starts[i - 1] then sung[#sung + 1] = { text = line.text, section = line.section, start_s = starts[i - 1] } end
  end
  local text = M.field(lyrics, "text")
  if type(text) ~= "string" then text = table.concat(tagged, "\n") end
  if text == "" and #sung == 0 then return nil end
  return { text = text, lines = sung }
end

--- Take markers came with REAPER 5.981: without reaper.SetTakeMarker the lyrics go into the item notes only,
--- said in the console once per REAPER session.
local function say_no_take_markers()
  if reaper.GetExtState(M.EXT, "take_markers_said") ~= "1" then
    reaper.SetExtState(M.EXT, "take_markers_said", "1", false)
    reaper.ShowConsoleMsg("MAGE Bridge: this REAPER has no take markers (reaper.SetTakeMarker, REAPER 5.981 and "
      .. "later), so the lyrics are in the vocals item's notes without a marker per line.\n")
  end
end

--- Put a clip's lyrics (M.clip_lyrics) on the item that sings them: its item notes hold the tagged text, and a
--- take marker at each line's first syllable carries the line, coloured by its section. A take marker sits in
--- source time (seconds of the take's file, which are the clip's seconds), so it stays on its syllable
--- through the take's start offset and play rate.
local function put_lyrics(item, take, lyrics)
  reaper.GetSetMediaItemInfo_String(item, "P_NOTES", lyrics.text, true)
  if #lyrics.lines == 0 then return end
  if not reaper.SetTakeMarker then return say_no_take_markers() end
  for _, line in ipairs(lyrics.lines) do
    local rgb = SECTION_RGB[line.section] or SECTION_RGB[line.section:match("^%a+") or ""] or OTHER_SECTION_RGB
    reaper.SetTakeMarker(take, -1, line.text, line.start_s, reaper.ColorToNative(rgb[1], rgb[2], rgb[3]) | 0x1000000)
  end
end

local function already_inserted(job_id)
  for i = 0, reaper.CountTracks(0) - 1 do
    local _, value = reaper.GetSetMediaTrackInfo_String(reaper.GetTrack(0, i), "P_EXT:mage_job_id", "", false)
    if value == job_id then return true end
  end
  return false
end

--- Open a REAPER source for each file (audio, then MIDI), or nil and a message with nothing kept open.
local function open_sources(files, midi, job_id)
  local sources = {}
  local function release()
    for _, s in ipairs(sources) do reaper.PCM_Source_Destroy(s.source) end
  end
  local all = {}
  for _, f in ipairs(files) do all[#all + 1] = { name = f.name, path = f.path, what = "stem" } end
  for _, f in ipairs(midi) do all[#all + 1] = { name = f.name, path = f.path, what = "MIDI", midi = true } end
  for _, f in ipairs(all) do
    if not reaper.file_exists(f.path) then
      release()
      return nil, f.what .. " file missing: " .. f.path .. " (job " .. job_id .. "); nothing was inserted"
    end
    local source = reaper.PCM_Source_CreateFromFile(f.path)
    local length = source and reaper.GetMediaSourceLength(source) or 0
    if not source or length <= 0 then
      if source then reaper.PCM_Source_Destroy(source) end
      release()
      return nil, "REAPER cannot read " .. f.path .. " (job " .. job_id .. "); nothing was inserted"
    end
    sources[#sources + 1] = { name = f.name, source = source, length = length, midi = f.midi }
  end
  return sources
end

--- Insert a finished job's files as a named folder of tracks, with a region per musical section of a
--- generated clip (M.section_regions) and its lyrics on the vocals item (notes and a take marker per line,
--- M.clip_lyrics), one undo block, peaks built.
--- Everything that can fail is checked before the project is touched. Returns true or nil, message.
function M.insert_result(record)
  local job_id = M.field(record, "job_id") or "?"
  local manifest_path = M.field(record, "manifest")
  if not manifest_path or not reaper.file_exists(manifest_path) then
    return nil, "result file missing: " .. tostring(manifest_path) .. " (job " .. job_id .. ")"
  end
  if already_inserted(job_id) then return true end
  local manifest, err = M.read_json(manifest_path)
  if not manifest then return nil, "cannot read the result of job " .. job_id .. ": " .. err end
  local files = result_files(manifest, manifest_path)
  if #files == 0 then return nil, "the result of job " .. job_id .. " holds no audio files" end
  local sources, source_err = open_sources(files, midi_files(manifest, manifest_path), job_id)
  if not sources then return nil, source_err end

  local placement = M.field(record, "placement") or {}
  local kind = M.field(record, "kind") or M.field(manifest, "kind")
  local name, undo_name = result_names(record, manifest)
  local where = M.placement_anchor(placement)
  local rate, said = M.tempo_fit(placement, where.anchor, name)
  local source_rate = tonumber(M.field(placement, "play_rate"))
  if source_rate and source_rate > 0 then rate = source_rate end -- as the source item plays: aligned with it
  local lead_in = (tonumber(M.field(placement, "lead_in_s")) or 0) / rate
  local position = M.item_start(where, lead_in)
  local trim_offset, trim_length = M.field(placement, "take_offset_s"), M.field(placement, "length_s")
  local audio_length -- of the first audio item: the MIDI items cover the same stretch of time
  for _, s in ipairs(sources) do
    if not s.midi then
      s.item_length = trim_length or s.length / rate
      audio_length = audio_length or s.item_length
    end
  end
  if where.align == "end" and audio_length then
    -- It ends where its source clip starts; what would be before the project start is trimmed off.
    position = where.anchor - audio_length
    if position < 0 then
      trim_offset = (trim_offset or 0) + (-position) * rate
      for _, s in ipairs(sources) do
        if not s.midi then s.item_length = s.item_length + position end
      end
      audio_length = audio_length + position
      position = 0
    end
  end
  local regions = (kind == "generate" or kind == "extend")
    and M.section_regions(manifest, position, rate, trim_offset, audio_length or 0) or {}
  local lyrics = M.clip_lyrics(manifest)

  reaper.PreventUIRefresh(1)
  reaper.Undo_BeginBlock()
  local first = reaper.CountTracks(0)
  reaper.InsertTrackAtIndex(first, true)
  local folder = reaper.GetTrack(0, first)
  reaper.GetSetMediaTrackInfo_String(folder, "P_NAME", name, true)
  reaper.GetSetMediaTrackInfo_String(folder, "P_EXT:mage_job_id", job_id, true)
  reaper.SetMediaTrackInfo_Value(folder, "I_FOLDERDEPTH", 1)
  for i, s in ipairs(sources) do
    reaper.InsertTrackAtIndex(first + i, true)
    local track = reaper.GetTrack(0, first + i)
    reaper.GetSetMediaTrackInfo_String(track, "P_NAME", s.name, true)
    reaper.SetMediaTrackInfo_Value(track, "I_FOLDERDEPTH", i == #sources and -1 or 0)
    local item = reaper.AddMediaItemToTrack(track)
    local take = reaper.AddTakeToMediaItem(item)
    reaper.SetMediaItemTake_Source(take, s.source)
    reaper.GetSetMediaItemTakeInfo_String(take, "P_NAME", s.name, true)
    -- which MAGE clip the item plays, for the section tools (repaint, extend, add a track)
    reaper.GetSetMediaItemInfo_String(item, "P_EXT:" .. M.ITEM_MANIFEST_KEY, manifest_path, true)
    reaper.SetMediaItemInfo_Value(item, "D_POSITION", position)
    if s.midi then -- beat-based: it follows the project's tempo on its own
      reaper.SetMediaItemInfo_Value(item, "D_LENGTH", audio_length)
    else
      if trim_offset then reaper.SetMediaItemTakeInfo_Value(take, "D_STARTOFFS", trim_offset) end
      if rate ~= 1.0 then
        reaper.SetMediaItemTakeInfo_Value(take, "D_PLAYRATE", rate)
        reaper.SetMediaItemTakeInfo_Value(take, "B_PPITCH", 1)
      end
      reaper.SetMediaItemInfo_Value(item, "D_LENGTH", s.item_length)
      if lyrics and s.name == "vocals" then put_lyrics(item, take, lyrics) end
    end
  end
  for _, r in ipairs(regions) do
    reaper.AddProjectMarker2(0, true, r.start, r.stop, r.name, -1, r.color)
  end
  reaper.Undo_EndBlock(undo_name, -1)
  reaper.PreventUIRefresh(-1)
  reaper.TrackList_AdjustWindows(false)
  reaper.UpdateArrange()
  reaper.Main_OnCommand(40047, 0) -- Peaks: Build any missing peaks
  if said then reaper.ShowConsoleMsg("MAGE Bridge: " .. said .. "\n") end
  return true
end

return M
