-- A small emulation of the ReaScript API, enough to run the MAGE Bridge scripts under a real Lua 5.4.
--
--   lua5.4 reaper_emu.lua SCENARIO.lua OUT.json
--
-- SCENARIO.lua returns a table: the starting project (tempo, metre, cursor, tracks with items), scripted
-- answers for GetUserInputs, and steps ({run = "script.lua"} or {defer = {...}}). The emulation records the
-- project (tracks, folder depth, names, items, positions, lengths), undo blocks, message boxes, console
-- output, actions, toggle states and any change made outside an undo block, and writes it all to OUT.json.
-- Names, argument order and return values follow REAPER's ReaScript documentation.

local scenario_path, out_path = arg[1], arg[2]
local scenario = dofile(scenario_path)

-- Stock REAPER has no LuaSocket: unless the scenario says `socket = true` (then the scripts load the
-- real one that lua5.4 finds), require "socket" fails as it does there.
if not scenario.socket then
  package.preload["socket"] = function() error("module 'socket' not found (stock REAPER has no LuaSocket)", 0) end
end

local log = {
  messages = {}, inputs = {}, commands = {}, undo = {}, outside_undo = {}, errors = {}, console = {},
  toggles = {}, toolbar_refreshes = 0, defer_iterations = 0, peak_builds = 0, destroyed_sources = 0,
}
local undo_depth, ui_refresh_depth, current_block = 0, 0, nil
local clock = os.time() + 0.0
local defer_queue, atexit_fns = {}, {}
local ext_state = {}
local current_script = "?"

---------------------------------------------------------------------------------------------------
-- the project
---------------------------------------------------------------------------------------------------
local P = scenario.project or {}
local project = {
  handle = { kind = "ReaProject" },
  path = P.path or "",
  cursor = P.cursor or 0.0,
  bpm = P.bpm or 120.0,
  num = P.numerator or 4,
  den = P.denominator or 4,
  ext = {},
  tracks = {},
}
for section, keys in pairs(P.ext or {}) do
  project.ext[section] = {}
  for k, v in pairs(keys) do project.ext[section][k] = v end
end

local function touch(what)
  if undo_depth == 0 then
    log.outside_undo[#log.outside_undo + 1] = what
  elseif current_block then
    current_block.changes = current_block.changes + 1
  end
end

-- WAV length from the header (RIFF/WAVE, fmt + data chunks; PCM or extensible).
local function wav_length(path)
  local f = io.open(path, "rb")
  if not f then return 0 end
  local data = f:read("a")
  f:close()
  if #data < 12 or data:sub(1, 4) ~= "RIFF" or data:sub(9, 12) ~= "WAVE" then return 0 end
  local pos, rate, block = 13, nil, nil
  while pos + 8 <= #data do
    local id, size = data:sub(pos, pos + 3), string.unpack("<I4", data, pos + 4)
    if id == "fmt " then
      rate = string.unpack("<I4", data, pos + 12)
      block = string.unpack("<I2", data, pos + 20)
    elseif id == "data" and rate and block and block > 0 then
      local bytes = math.min(size, #data - pos - 7)
      return (bytes // block) / rate
    end
    pos = pos + 8 + size + (size % 2)
  end
  return 0
end

local function new_source(file)
  return { kind = "PCM_source", file = file, length = wav_length(file) }
end

local function new_track(name)
  return { kind = "MediaTrack", name = name or "", depth = 0, ext = {}, items = {} }
end

local function new_item(track)
  local item = { kind = "MediaItem", track = track, position = 0.0, length = 0.0, takes = {}, selected = false }
  track.items[#track.items + 1] = item
  return item
end

local function new_take(item)
  local take = { kind = "MediaItem_Take", item = item, name = "", startoffs = 0.0, source = nil }
  item.takes[#item.takes + 1] = take
  item.active = item.active or take
  return take
end

for _, t in ipairs(P.tracks or {}) do
  local track = new_track(t.name)
  track.depth = t.folder_depth or 0
  project.tracks[#project.tracks + 1] = track
  for _, it in ipairs(t.items or {}) do
    local item = new_item(track)
    item.position, item.length, item.selected = it.position or 0, it.length or 0, it.selected or false
    local take = new_take(item)
    take.name, take.startoffs = it.take_name or "", it.take_offset or 0
    take.source = new_source(it.file)
  end
end

---------------------------------------------------------------------------------------------------
-- timing (constant tempo and metre; bpm counts quarter notes)
---------------------------------------------------------------------------------------------------
local function qn_s() return 60.0 / project.bpm end
local function denom_beat_s() return qn_s() * 4.0 / project.den end

---------------------------------------------------------------------------------------------------
-- the API
---------------------------------------------------------------------------------------------------
local R = {}

function R.EnumProjects(idx)
  if idx == -1 or idx == 0 then return project.handle, project.path end
  return nil, ""
end

function R.GetProjExtState(proj, extname, key)
  local v = (project.ext[extname] or {})[key]
  if v == nil then return 0, "" end
  return 1, v
end

function R.SetProjExtState(proj, extname, key, value)
  project.ext[extname] = project.ext[extname] or {}
  project.ext[extname][key] = value
  return 1
end

function R.GetExtState(section, key) return (ext_state[section] or {})[key] or "" end
function R.HasExtState(section, key) return (ext_state[section] or {})[key] ~= nil end
function R.SetExtState(section, key, value, persist)
  ext_state[section] = ext_state[section] or {}
  ext_state[section][key] = value
end
function R.DeleteExtState(section, key, persist)
  if ext_state[section] then ext_state[section][key] = nil end
end

function R.GetCursorPosition() return project.cursor end
function R.GetCursorPositionEx(proj) return project.cursor end
function R.Master_GetTempo() return project.bpm end
function R.TimeMap_GetTimeSigAtTime(proj, time) return project.num, project.den, project.bpm end
function R.TimeMap2_timeToQN(proj, tpos) return tpos / qn_s() end
function R.TimeMap2_QNToTime(proj, qn) return qn * qn_s() end

function R.TimeMap2_timeToBeats(proj, tpos)
  local full = tpos / denom_beat_s()
  local measures = math.floor(full / project.num + 1e-9)
  return full - measures * project.num, measures, project.num, full, project.den
end

function R.TimeMap2_beatsToTime(proj, tpos, measuresIn)
  return ((measuresIn or 0) * project.num + tpos) * denom_beat_s()
end

function R.Undo_BeginBlock()
  undo_depth = undo_depth + 1
  if undo_depth == 1 then current_block = { changes = 0, script = current_script } end
end
function R.Undo_BeginBlock2(proj) R.Undo_BeginBlock() end
function R.Undo_EndBlock(descchange, extraflags)
  if undo_depth == 0 then
    log.errors[#log.errors + 1] = "Undo_EndBlock without Undo_BeginBlock"
    return
  end
  undo_depth = undo_depth - 1
  if undo_depth == 0 then
    current_block.description, current_block.flags = descchange, extraflags
    log.undo[#log.undo + 1] = current_block
    current_block = nil
  end
end
function R.Undo_EndBlock2(proj, descchange, extraflags) R.Undo_EndBlock(descchange, extraflags) end
function R.PreventUIRefresh(prevent_count) ui_refresh_depth = ui_refresh_depth + prevent_count end
function R.UpdateArrange() end
function R.TrackList_AdjustWindows(isMinor) end

function R.CountTracks(proj) return #project.tracks end
function R.GetTrack(proj, trackidx) return project.tracks[trackidx + 1] end

function R.InsertTrackAtIndex(idx, wantDefaults)
  touch("InsertTrackAtIndex")
  idx = math.max(0, math.min(idx, #project.tracks))
  table.insert(project.tracks, idx + 1, new_track(""))
end

function R.GetSetMediaTrackInfo_String(tr, parmname, stringNeedBig, setNewValue)
  if setNewValue then touch("GetSetMediaTrackInfo_String " .. parmname) end
  if parmname == "P_NAME" then
    if setNewValue then tr.name = stringNeedBig end
    return true, tr.name
  end
  local ext = parmname:match("^P_EXT:(.+)$")
  if ext then
    if setNewValue then tr.ext[ext] = stringNeedBig end
    return tr.ext[ext] ~= nil, tr.ext[ext] or ""
  end
  return false, ""
end

function R.SetMediaTrackInfo_Value(tr, parmname, newvalue)
  touch("SetMediaTrackInfo_Value " .. parmname)
  if parmname == "I_FOLDERDEPTH" then tr.depth = math.floor(newvalue) return true end
  return false
end

function R.GetMediaTrackInfo_Value(tr, parmname)
  if parmname == "I_FOLDERDEPTH" then return tr.depth end
  return 0
end

function R.AddMediaItemToTrack(tr)
  touch("AddMediaItemToTrack")
  return new_item(tr)
end

function R.AddTakeToMediaItem(item)
  touch("AddTakeToMediaItem")
  return new_take(item)
end

function R.PCM_Source_CreateFromFile(filename) return new_source(filename) end
function R.PCM_Source_Destroy(src)
  src.destroyed = true
  log.destroyed_sources = log.destroyed_sources + 1
end
function R.GetMediaSourceLength(source) return source.length, false end
function R.GetMediaSourceFileName(source, filenamebuf) return source.file or "" end
function R.GetMediaSourceParent(src) return nil end

function R.SetMediaItemTake_Source(take, source)
  touch("SetMediaItemTake_Source")
  take.source = source
  return true
end

local item_fields = { D_POSITION = "position", D_LENGTH = "length" }

function R.SetMediaItemInfo_Value(item, parmname, newvalue)
  touch("SetMediaItemInfo_Value " .. parmname)
  if item_fields[parmname] then item[item_fields[parmname]] = newvalue return true end
  if parmname == "B_UISEL" then item.selected = newvalue ~= 0 return true end
  return false
end

function R.GetMediaItemInfo_Value(item, parmname)
  if item_fields[parmname] then return item[item_fields[parmname]] end
  if parmname == "B_UISEL" then return item.selected and 1 or 0 end
  return 0
end

function R.SetMediaItemTakeInfo_Value(take, parmname, newvalue)
  touch("SetMediaItemTakeInfo_Value " .. parmname)
  if parmname == "D_STARTOFFS" then take.startoffs = newvalue return true end
  return false
end

function R.GetMediaItemTakeInfo_Value(take, parmname)
  if parmname == "D_STARTOFFS" then return take.startoffs end
  if parmname == "D_PLAYRATE" then return 1.0 end
  return 0
end

function R.GetSetMediaItemTakeInfo_String(take, parmname, stringNeedBig, setNewValue)
  if parmname ~= "P_NAME" then return false, "" end
  if setNewValue then
    touch("GetSetMediaItemTakeInfo_String P_NAME")
    take.name = stringNeedBig
  end
  return true, take.name
end

local function selected_items()
  local out = {}
  for _, tr in ipairs(project.tracks) do
    for _, item in ipairs(tr.items) do
      if item.selected then out[#out + 1] = item end
    end
  end
  return out
end

function R.CountSelectedMediaItems(proj) return #selected_items() end
function R.GetSelectedMediaItem(proj, selitem) return selected_items()[selitem + 1] end
function R.GetActiveTake(item) return item.active end
function R.GetMediaItemTake_Source(take) return take.source end
function R.TakeIsMIDI(take) return false end

function R.Main_OnCommand(command, flag)
  log.commands[#log.commands + 1] = command
  if command == 40047 then log.peak_builds = log.peak_builds + 1 end
end

function R.ShowMessageBox(msg, title, type)
  log.messages[#log.messages + 1] = { msg = msg, title = title, type = type, script = current_script }
  return 1
end

local answers = scenario.user_inputs or {}
function R.GetUserInputs(title, num_inputs, captions_csv, retvals_csv)
  log.inputs[#log.inputs + 1] = { title = title, num_inputs = num_inputs, captions = captions_csv,
                                  defaults = retvals_csv }
  local answer = table.remove(answers, 1)
  if not answer or answer.cancel then return false, "" end
  local sep = captions_csv:match("separator=(.)") or ","
  return true, table.concat(answer.values, sep)
end

function R.defer(fn) defer_queue[#defer_queue + 1] = fn end
function R.atexit(fn) atexit_fns[#atexit_fns + 1] = fn end
function R.runloop(fn) R.defer(fn) end

local script_ids = {}
function R.get_action_context()
  script_ids[current_script] = script_ids[current_script] or (55000 + #log.toggles + 1)
  return false, current_script, 0, script_ids[current_script], -1, -1, -1, ""
end

function R.SetToggleCommandState(section_id, command_id, state)
  log.toggles[#log.toggles + 1] = { section = section_id, command = command_id, state = state }
  return true
end
function R.RefreshToolbar2(section_id, command_id) log.toolbar_refreshes = log.toolbar_refreshes + 1 end
function R.time_precise() return clock end
function R.GetResourcePath() return os.getenv("TMPDIR") or "/tmp" end
function R.GetProjectPath() return (project.path:match("^(.*)[/\\]") or "") end

function R.file_exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

function R.RecursiveCreateDirectory(path, ignored)
  os.execute("mkdir -p '" .. path:gsub("'", "'\\''") .. "'")
  return 1
end

local listing = {}
function R.EnumerateFiles(path, fileindex)
  if fileindex == 0 or not listing[path] then
    listing[path] = {}
    local p = io.popen("find '" .. path:gsub("'", "'\\''") .. "' -mindepth 1 -maxdepth 1 -type f -printf '%f\\n' 2>/dev/null")
    if p then
      for line in p:lines() do listing[path][#listing[path] + 1] = line end
      p:close()
    end
    table.sort(listing[path])
  end
  return listing[path][fileindex + 1]
end

function R.ShowConsoleMsg(msg)
  log.console[#log.console + 1] = msg
  io.stderr:write(msg)
end

reaper = R -- the one global REAPER gives every script

---------------------------------------------------------------------------------------------------
-- running scripts and the defer loop
---------------------------------------------------------------------------------------------------
local baseline = {}
for k in pairs(_G) do baseline[k] = true end

local function run_script(path)
  current_script = path
  local ok, err = pcall(dofile, path)
  if not ok then log.errors[#log.errors + 1] = path .. ": " .. tostring(err) end
end

local function sleep(seconds)
  if seconds > 0 then os.execute(string.format("sleep %.3f", seconds)) end
end

local function count_new_tracks()
  return #project.tracks - #(P.tracks or {})
end

local function run_defer(opts)
  local interval = opts.interval_s or 0.05
  local deadline = os.time() + (opts.timeout_s or 30)
  local extra_left = nil
  for _ = 1, opts.max_iterations or 100 do
    if #defer_queue == 0 then break end
    local queue = defer_queue
    defer_queue = {}
    log.defer_iterations = log.defer_iterations + 1
    for _, fn in ipairs(queue) do
      local ok, err = pcall(fn)
      if not ok then log.errors[#log.errors + 1] = "deferred: " .. tostring(err) end
    end
    clock = clock + interval
    if extra_left then
      extra_left = extra_left - 1
      if extra_left <= 0 then break end
    elseif (opts.until_tracks and count_new_tracks() >= opts.until_tracks)
        or (opts.until_messages and #log.messages >= opts.until_messages) then
      extra_left = opts.extra or 5
    end
    if os.time() > deadline then break end
    sleep(interval)
  end
end

for _, step in ipairs(scenario.steps or {}) do
  if step.run then run_script(step.run) end
  if step.defer then run_defer(step.defer) end
  if step.cursor then project.cursor = step.cursor end
end
if scenario.exit ~= false then
  for _, fn in ipairs(atexit_fns) do
    local ok, err = pcall(fn)
    if not ok then log.errors[#log.errors + 1] = "atexit: " .. tostring(err) end
  end
end

local leaked = {}
for k in pairs(_G) do
  if not baseline[k] then leaked[#leaked + 1] = tostring(k) end
end
table.sort(leaked)

---------------------------------------------------------------------------------------------------
-- the dump
---------------------------------------------------------------------------------------------------
local function encode(v)
  local t = type(v)
  if v == nil then return "null" end
  if t == "boolean" then return tostring(v) end
  if t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return "null" end
    return math.type(v) == "integer" and tostring(v) or string.format("%.17g", v)
  end
  if t == "string" then
    return '"' .. v:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
  end
  if t == "table" then
    if #v > 0 or next(v) == nil then -- a list (an empty table is written as an empty list)
      local parts = {}
      for i, x in ipairs(v) do parts[i] = encode(x) end
      return "[" .. table.concat(parts, ",") .. "]"
    end
    local parts = {}
    for k, x in pairs(v) do parts[#parts + 1] = encode(tostring(k)) .. ":" .. encode(x) end
    table.sort(parts)
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return encode(tostring(v))
end

local tracks = {}
for i, tr in ipairs(project.tracks) do
  local items = {}
  for j, item in ipairs(tr.items) do
    local take = item.active
    items[j] = ({ position = item.position, length = item.length, selected = item.selected,
                     takes = #item.takes, take_name = take and take.name or nil,
                     take_offset = take and take.startoffs or nil,
                     source = take and take.source and take.source.file or nil,
                     source_length = take and take.source and take.source.length or nil })
  end
  local ext = {}
  for k, v in pairs(tr.ext) do ext[#ext + 1] = { key = k, value = v } end
  tracks[i] = ({ index = i - 1, name = tr.name, folder_depth = tr.depth, ext = ext, items = items })
end

local dump = {
  tracks = tracks, messages = log.messages, inputs = log.inputs, commands = log.commands, undo = log.undo,
  outside_undo = log.outside_undo, errors = log.errors, toggles = log.toggles,
  toolbar_refreshes = log.toolbar_refreshes, defer_iterations = log.defer_iterations,
  peak_builds = log.peak_builds, undo_depth = undo_depth, ui_refresh_depth = ui_refresh_depth,
  pending_defers = #defer_queue, leaked_globals = leaked, destroyed_sources = log.destroyed_sources,
  console = log.console,
}
local f = assert(io.open(out_path, "w"))
f:write(encode(dump))
f:close()
