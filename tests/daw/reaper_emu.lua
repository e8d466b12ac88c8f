-- A small emulation of the ReaScript API, enough to run the MAGE Bridge scripts under a real Lua 5.4.
--
--   lua5.4 reaper_emu.lua SCENARIO.lua OUT.json
--
-- SCENARIO.lua returns a table: the starting project (tempo, metre, cursor, time selection and loop points,
-- tracks with items (position, length, take offset and play rate, file, item ext state), markers and regions), ext state, scripted answers for GetUserInputs, and steps ({run = "script.lua"}, {defer = {...}},
-- {cursor = s}, {bpm = x}, {ext = {section, key, value}}, {touch = path}, {wait_file = path}). The emulation
-- records the project (tracks, folder depth, names, items, positions, lengths, play rates, item notes, take
-- markers, markers and regions), undo points, message boxes, console output, actions, toggle states, task-control dialogs, any
-- change made outside an undo block and how long each script run and deferred call held REAPER's main
-- thread, and writes it all to OUT.json. Names, argument order and return values follow REAPER's ReaScript documentation; where
-- REAPER's behaviour matters to the scripts it is modelled too:
--   * EnumerateFiles/EnumerateSubdirectories serve a cached listing of each folder; only index -1
--     re-reads it ("Use fileindex = -1 to force re-read of directory (invalidate cache)"), and returns nil.
--     REAPER promises no order, so names come in the file system's order.
--   * A script run that neither called defer/runloop nor made an undo point of its own gets REAPER's
--     automatic "ReaScript: Run" undo point when its main chunk ends ("no undo point will be automatically
--     created when the script finishes" is documented for defer() scripts only).
--   * Starting a script again while an instance of it still runs deferred code raises REAPER's
--     "ReaScript task control" dialog, unless the running instance called set_action_options(flag)
--     (REAPER 7.03+): flag&1 terminates it (its atexit functions run), flag&2 then starts the new one;
--     flag&4 / flag&8 set the script's toggle state on / off.
--   * A script's atexit functions run when it ends: after its main chunk if nothing is deferred, after
--     its last deferred call, when it is terminated, and when REAPER quits at the end of the scenario.

local scenario_path, out_path = arg[1], arg[2]
local scenario = dofile(scenario_path)

-- The emulation's own wall clock and sleep come from LuaSocket when lua5.4 has it (else a simulated
-- clock and `sleep`). Stock REAPER has no LuaSocket: unless the scenario says `socket = true` (then the
-- scripts load the real one), require "socket" fails for the scripts as it does there.
local has_socket, real_socket = pcall(require, "socket")
if not has_socket or type(real_socket) ~= "table" or not real_socket.gettime then real_socket = nil end
if not scenario.socket then
  package.loaded["socket"], package.loaded["socket.core"] = nil, nil
  package.preload["socket"] = function() error("module 'socket' not found (stock REAPER has no LuaSocket)", 0) end
end

local log = {
  messages = {}, inputs = {}, commands = {}, undo = {}, outside_undo = {}, errors = {}, console = {},
  toggles = {}, toolbar_refreshes = 0, defer_iterations = 0, peak_builds = 0, destroyed_sources = 0,
  runs = {}, task_dialogs = {}, terminated = {}, max_deferred_s = 0.0, action_options = {},
}
local undo_depth, ui_refresh_depth, current_block = 0, 0, nil
local defer_queue = {}
local ext_state = {}
for section, keys in pairs(scenario.ext_state or {}) do
  ext_state[section] = {}
  for k, v in pairs(keys) do ext_state[section][k] = v end
end

local started_at = os.time() + 0.0
local simulated = 0.0
local function now()
  if real_socket then return real_socket.gettime() end
  return started_at + simulated
end
local function sleep(seconds)
  if seconds <= 0 then return end
  if real_socket then real_socket.sleep(seconds) else
    os.execute(string.format("sleep %.3f", seconds))
    simulated = simulated + seconds
  end
end

-- One running script: its path, action options, atexit functions and whether it is still alive.
local current = { script = "?", atexit = {}, options = 0 }

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
  markers = {},
  -- GetSet_LoopTimeRange2's two ranges: the time selection (isLoop false) and the loop points (isLoop true);
  -- {0, 0} when there is none.
  time_selection = P.time_selection or { 0.0, 0.0 },
  loop = P.loop or { 0.0, 0.0 },
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

-- A Standard MIDI File's length in quarter notes: the longest track's ticks over the division (PPQ).
local function smf_quarters(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local data = f:read("a")
  f:close()
  if #data < 14 or data:sub(1, 4) ~= "MThd" then return nil end
  local division = string.unpack(">I2", data, 13)
  if division == 0 or division >= 0x8000 then return nil end -- SMPTE time is not modelled
  local pos, longest = 9 + string.unpack(">I4", data, 5), 0
  while pos + 8 <= #data do
    local id, size = data:sub(pos, pos + 3), string.unpack(">I4", data, pos + 4)
    local i, stop, ticks, status = pos + 8, pos + 8 + size, 0, 0
    if id == "MTrk" then
      while i < stop do
        local delta = 0
        repeat
          local b = data:byte(i)
          delta, i = delta * 128 + (b & 0x7f), i + 1
        until b < 0x80
        ticks = ticks + delta
        local b = data:byte(i)
        if b == 0xff then -- meta event: type, length, data
          local len, j = 0, i + 2
          repeat
            local c = data:byte(j)
            len, j = len * 128 + (c & 0x7f), j + 1
          until c < 0x80
          i = j + len
        elseif b == 0xf0 or b == 0xf7 then -- sysex
          local len, j = 0, i + 1
          repeat
            local c = data:byte(j)
            len, j = len * 128 + (c & 0x7f), j + 1
          until c < 0x80
          i = j + len
        else
          if b >= 0x80 then status, i = b, i + 1 end -- else running status
          local hi = status & 0xf0
          i = i + ((hi == 0xc0 or hi == 0xd0) and 1 or 2)
        end
      end
      longest = math.max(longest, ticks)
    end
    pos = stop
  end
  return longest / division
end

local function new_source(file)
  local lower = (file or ""):lower()
  if lower:match("%.midi?$") or lower:match("%.smf$") then
    return { kind = "PCM_source", file = file, midi = true, quarters = smf_quarters(file) or 0 }
  end
  return { kind = "PCM_source", file = file, length = wav_length(file) }
end

local function new_track(name)
  return { kind = "MediaTrack", name = name or "", depth = 0, ext = {}, items = {} }
end

local function new_item(track)
  local item = { kind = "MediaItem", track = track, position = 0.0, length = 0.0, takes = {}, selected = false,
                 ext = {}, notes = "" }
  track.items[#track.items + 1] = item
  return item
end

local function new_take(item)
  local take = { kind = "MediaItem_Take", item = item, name = "", startoffs = 0.0, source = nil, playrate = 1.0,
                 preserve_pitch = false, markers = {} }
  item.takes[#item.takes + 1] = take
  item.active = item.active or take
  return take
end

for _, m in ipairs(P.markers or {}) do -- the project's own markers and regions, in timeline order
  project.markers[#project.markers + 1] = { isrgn = m.isrgn or false, pos = m.pos, rgnend = m.rgnend or m.pos,
                                            name = m.name or "", number = m.number, color = m.color or 0 }
end
table.sort(project.markers, function(a, b) return a.pos < b.pos end)

for _, t in ipairs(P.tracks or {}) do
  local track = new_track(t.name)
  track.depth = t.folder_depth or 0
  project.tracks[#project.tracks + 1] = track
  for _, it in ipairs(t.items or {}) do
    local item = new_item(track)
    item.position, item.length, item.selected = it.position or 0, it.length or 0, it.selected or false
    for k, v in pairs(it.ext or {}) do item.ext[k] = v end
    local take = new_take(item)
    take.name, take.startoffs, take.playrate = it.take_name or "", it.take_offset or 0, it.playrate or 1.0
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
  if undo_depth == 1 then current_block = { changes = 0, script = current.script } end
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
    current.made_undo = true
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
-- "Returns the length of the source media. If the media source is beat-based, the length will be in
-- quarter notes, otherwise it will be in seconds." MIDI file sources are beat-based.
function R.GetMediaSourceLength(source)
  if source.midi then return source.quarters, true end
  return source.length, false
end
function R.GetMediaSourceType(source, typebuf) return source.midi and "MIDI" or "WAVE" end
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
  if parmname == "D_PLAYRATE" then take.playrate = newvalue return true end
  if parmname == "B_PPITCH" then take.preserve_pitch = newvalue ~= 0 return true end
  return false
end

function R.GetMediaItemTakeInfo_Value(take, parmname)
  if parmname == "D_STARTOFFS" then return take.startoffs end
  if parmname == "D_PLAYRATE" then return take.playrate end
  if parmname == "B_PPITCH" then return take.preserve_pitch and 1 or 0 end
  return 0
end

-- "P_NOTES : char * : item note text (do not write to returned pointer, use setNewValue to update)" and
-- "P_EXT:xyz : char * : extension-specific persistent data" (items, as tracks and takes have it).
function R.GetSetMediaItemInfo_String(item, parmname, stringNeedBig, setNewValue)
  if type(stringNeedBig) ~= "string" or type(setNewValue) ~= "boolean" then
    error("GetSetMediaItemInfo_String: stringNeedBig is a string and setNewValue a boolean", 2)
  end
  if parmname == "P_NOTES" then
    if setNewValue then
      touch("GetSetMediaItemInfo_String P_NOTES")
      item.notes = stringNeedBig
    end
    return true, item.notes
  end
  local ext = parmname:match("^P_EXT:(.+)$")
  if not ext then return false, "" end
  if setNewValue then
    touch("GetSetMediaItemInfo_String " .. parmname)
    item.ext[ext] = stringNeedBig
  end
  return item.ext[ext] ~= nil, item.ext[ext] or ""
end

-- Take markers (REAPER 5.981+; a scenario with `reaper_version < 5.981` leaves the functions out, as older
-- REAPERs lack them). "SetTakeMarker(take, idx, nameIn, optional srcposIn, optional colorIn): Inserts or
-- updates a take marker. If idx<0, a take marker will be added, otherwise an existing take marker will be
-- updated. Returns the index of the new or updated take marker (which may change if srcPos is updated)."
-- "GetTakeMarker(take, idx): Returns the position in media item source time, or -1 if the take marker does
-- not exist", with its name and colour. A marker's position is source time: seconds of the take's file, so it
-- shows at item position + (srcpos - D_STARTOFFS) / D_PLAYRATE. Markers are kept in source-time order (a
-- marker added at the position of another goes after it); idx counts from 0 in that order. A new marker
-- without srcposIn is not modelled (the documentation leaves its position open) and raises.
local function check_take(fname, take)
  if type(take) ~= "table" or take.kind ~= "MediaItem_Take" then
    error(fname .. " argument 1: expected a MediaItem_Take", 3)
  end
end

local function sorted_insert(markers, marker)
  local at = #markers + 1
  for i, m in ipairs(markers) do
    if m.srcpos > marker.srcpos then at = i break end
  end
  table.insert(markers, at, marker)
  return at - 1
end

local function set_take_marker(take, idx, nameIn, srcposIn, colorIn)
  check_take("SetTakeMarker", take)
  if math.type(idx) ~= "integer" then error("SetTakeMarker argument 2: expected an integer (idx)", 2) end
  if type(nameIn) ~= "string" then error("SetTakeMarker argument 3: expected a string (nameIn)", 2) end
  if srcposIn ~= nil and type(srcposIn) ~= "number" then error("SetTakeMarker argument 4: expected a number", 2) end
  if colorIn ~= nil and math.type(colorIn) ~= "integer" then
    error("SetTakeMarker argument 5: expected an integer", 2)
  end
  touch("SetTakeMarker")
  if idx < 0 then
    if srcposIn == nil then error("SetTakeMarker: a new take marker without srcposIn is not modelled", 2) end
    return sorted_insert(take.markers, { srcpos = srcposIn, name = nameIn, color = colorIn or 0 })
  end
  local marker = take.markers[idx + 1]
  if not marker then return -1 end
  marker.name = nameIn
  if colorIn ~= nil then marker.color = colorIn end
  if srcposIn == nil then return idx end
  table.remove(take.markers, idx + 1)
  marker.srcpos = srcposIn
  return sorted_insert(take.markers, marker)
end

if (scenario.reaper_version or 7.15) >= 5.981 then
  R.SetTakeMarker = set_take_marker
  function R.GetNumTakeMarkers(take)
    check_take("GetNumTakeMarkers", take)
    return #take.markers
  end
  function R.GetTakeMarker(take, idx)
    check_take("GetTakeMarker", take)
    local m = take.markers[idx + 1]
    if not m then return -1.0, "", 0 end
    return m.srcpos, m.name, m.color
  end
  function R.DeleteTakeMarker(take, idx)
    check_take("DeleteTakeMarker", take)
    if not take.markers[idx + 1] then return false end
    touch("DeleteTakeMarker")
    table.remove(take.markers, idx + 1)
    return true
  end
end

-- "GetSet_LoopTimeRange2(proj, isSet, isLoop, start, end, allowautoseek)": returns start, end (seconds) of
-- the time selection (isLoop false) or the loop points (isLoop true); both 0 when there is none.
function R.GetSet_LoopTimeRange2(proj, isSet, isLoop, start, stop, allowautoseek)
  if type(isSet) ~= "boolean" or type(isLoop) ~= "boolean" or type(allowautoseek) ~= "boolean" then
    error("GetSet_LoopTimeRange2: isSet, isLoop and allowautoseek are booleans", 2)
  end
  local range = isLoop and project.loop or project.time_selection
  if isSet then range[1], range[2] = start, stop end
  return range[1], range[2]
end
function R.GetSet_LoopTimeRange(isSet, isLoop, start, stop, allowautoseek)
  return R.GetSet_LoopTimeRange2(0, isSet, isLoop, start, stop, allowautoseek)
end

function R.GetSetMediaItemTakeInfo_String(take, parmname, stringNeedBig, setNewValue)
  if parmname ~= "P_NAME" then return false, "" end
  if setNewValue then
    touch("GetSetMediaItemTakeInfo_String P_NAME")
    take.name = stringNeedBig
  end
  return true, take.name
end

-- Markers and regions. Each kind has its own numbers (the ones REAPER shows: "Region 3"); AddProjectMarker(2)
-- "Returns the index of the created marker/region, or -1 on failure. Supply wantidx>=0 if you want a
-- particular index number, but you'll get a different index number a region and wantidx is already in use":
-- wantidx is kept when no marker of that kind has it, else (and for -1) the lowest number that kind has free.
-- The list is kept in timeline order, which EnumProjectMarkers3's idx walks (0-based; retval idx+1, 0 past
-- the end). color is 0 (the default colour) or ColorToNative(r,g,b)|0x1000000, kept as given.
local function marker_number(isrgn, wantidx)
  local used = {}
  for _, m in ipairs(project.markers) do
    if m.isrgn == isrgn then used[m.number] = true end
  end
  if wantidx >= 0 and not used[wantidx] then return wantidx end
  local n = 1
  while used[n] do n = n + 1 end
  return n
end

local function add_marker(fname, proj, isrgn, pos, rgnend, name, wantidx, color)
  if type(isrgn) ~= "boolean" then error(fname .. " argument 2: expected a boolean (isrgn)", 3) end
  if type(pos) ~= "number" or type(rgnend) ~= "number" then error(fname .. ": pos and rgnend are numbers", 3) end
  if type(name) ~= "string" then error(fname .. " argument 5: expected a string (name)", 3) end
  if math.type(wantidx) ~= "integer" or math.type(color) ~= "integer" then
    error(fname .. ": wantidx and color are integers", 3)
  end
  touch(fname)
  local marker = { isrgn = isrgn, pos = pos, rgnend = isrgn and rgnend or pos, name = name,
                   number = marker_number(isrgn, wantidx), color = color }
  local at = #project.markers + 1
  for i, m in ipairs(project.markers) do
    if m.pos > pos then at = i break end
  end
  table.insert(project.markers, at, marker)
  return marker.number
end

function R.AddProjectMarker(proj, isrgn, pos, rgnend, name, wantidx)
  return add_marker("AddProjectMarker", proj, isrgn, pos, rgnend, name, wantidx, 0)
end
function R.AddProjectMarker2(proj, isrgn, pos, rgnend, name, wantidx, color)
  return add_marker("AddProjectMarker2", proj, isrgn, pos, rgnend, name, wantidx, color)
end

function R.CountProjectMarkers(proj)
  local markers, regions = 0, 0
  for _, m in ipairs(project.markers) do
    if m.isrgn then regions = regions + 1 else markers = markers + 1 end
  end
  return markers + regions, markers, regions
end

function R.EnumProjectMarkers3(proj, idx)
  local m = project.markers[idx + 1]
  if not m then return 0, false, 0.0, 0.0, "", 0, 0 end
  return idx + 1, m.isrgn, m.pos, m.rgnend, m.name, m.number, m.color
end

-- "Make an OS dependent color from RGB values (e.g. RGB() macro on Windows)": the Windows layout.
function R.ColorToNative(r, g, b) return (r & 0xff) | ((g & 0xff) << 8) | ((b & 0xff) << 16) end
function R.ColorFromNative(col) return col & 0xff, (col >> 8) & 0xff, (col >> 16) & 0xff end

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
function R.TakeIsMIDI(take) return take.source ~= nil and take.source.midi == true end

function R.Main_OnCommand(command, flag)
  log.commands[#log.commands + 1] = command
  if command == 40047 then log.peak_builds = log.peak_builds + 1 end
end

function R.ShowMessageBox(msg, title, type)
  log.messages[#log.messages + 1] = { msg = msg, title = title, type = type, script = current.script }
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

function R.defer(fn)
  if type(fn) ~= "function" then error("defer: a function expected", 2) end
  current.deferred = true
  defer_queue[#defer_queue + 1] = { fn = fn, instance = current }
  return true
end
function R.runloop(fn) return R.defer(fn) end
function R.atexit(fn)
  current.atexit[#current.atexit + 1] = fn
  return true
end

local script_ids, next_id = {}, 55000
local function command_id(script)
  if not script_ids[script] then
    next_id = next_id + 1
    script_ids[script] = next_id
  end
  return script_ids[script]
end

function R.get_action_context()
  return false, current.script, 0, command_id(current.script), -1, -1, -1, ""
end

-- REAPER 7.03+. A scenario with `reaper_version < 7.03` leaves it out, as older REAPERs do.
local function set_action_options(flag)
  current.options = flag
  log.action_options[#log.action_options + 1] = { script = current.script, flag = flag }
  local section, command = 0, command_id(current.script)
  if flag & 4 ~= 0 then log.toggles[#log.toggles + 1] = { section = section, command = command, state = 1 } end
  if flag & 8 ~= 0 then log.toggles[#log.toggles + 1] = { section = section, command = command, state = 0 } end
end
if (scenario.reaper_version or 7.15) >= 7.03 then R.set_action_options = set_action_options end

function R.SetToggleCommandState(section_id, command_id, state)
  log.toggles[#log.toggles + 1] = { section = section_id, command = command_id, state = state }
  return true
end
function R.RefreshToolbar2(section_id, command_id) log.toolbar_refreshes = log.toolbar_refreshes + 1 end
function R.time_precise() return now() end
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

-- REAPER keeps a listing per folder and serves it until index -1 asks for a re-read.
local listings = { files = {}, dirs = {} }
local function enumerate(which, path, index)
  if index == -1 then
    listings[which][path] = nil
    return nil
  end
  local cached = listings[which][path]
  if not cached then
    cached = {}
    local kind = which == "files" and "f" or "d"
    local p = io.popen("find '" .. path:gsub("'", "'\\''") .. "' -mindepth 1 -maxdepth 1 -type " .. kind
      .. " -printf '%f\\n' 2>/dev/null")
    if p then
      for line in p:lines() do cached[#cached + 1] = line end
      p:close()
    end
    listings[which][path] = cached
  end
  return cached[index + 1]
end
function R.EnumerateFiles(path, fileindex) return enumerate("files", path, fileindex) end
function R.EnumerateSubdirectories(path, subdirindex) return enumerate("dirs", path, subdirindex) end

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

local instances = {} -- script path -> its running instance (one that still has deferred code)

local function call(instance, fn, what)
  local saved = current
  current = instance
  local started = now()
  local ok, err = pcall(fn)
  local held = now() - started
  current = saved
  if not ok then log.errors[#log.errors + 1] = what .. ": " .. tostring(err) end
  return held
end

local function has_deferred(instance)
  for _, entry in ipairs(defer_queue) do
    if entry.instance == instance then return true end
  end
  return false
end

--- The script ends: its atexit functions run (once), and it no longer counts as running.
local function finish(instance)
  if instance.finished then return end
  instance.finished = true
  if instances[instance.script] == instance then instances[instance.script] = nil end
  for _, fn in ipairs(instance.atexit) do call(instance, fn, "atexit") end
end

local function terminate(instance, why)
  local kept = {}
  for _, entry in ipairs(defer_queue) do
    if entry.instance ~= instance then kept[#kept + 1] = entry end
  end
  defer_queue = kept
  log.terminated[#log.terminated + 1] = { script = instance.script, why = why }
  finish(instance)
end

local function run_script(path)
  local running = instances[path]
  if running then
    if running.options & 1 ~= 0 then
      terminate(running, "re-launched (set_action_options 1)")
      if running.options & 2 == 0 then return end
    else
      -- REAPER asks what to do; the scenario answers ("terminate" by default, or "new" / "abort").
      local answer = scenario.task_dialog_answer or "terminate"
      log.task_dialogs[#log.task_dialogs + 1] = { script = path, answer = answer }
      if answer == "abort" then return end
      if answer == "terminate" then
        terminate(running, "task control dialog")
        return
      end
    end
  end
  local instance = { script = path, atexit = {}, options = 0, deferred = false, made_undo = false }
  local outside_before = #log.outside_undo
  local held = call(instance, function() dofile(path) end, path)
  log.runs[#log.runs + 1] = { script = path, main_s = held, deferred = instance.deferred }
  if not instance.deferred then
    -- REAPER's own undo point for a script that made none and left nothing running.
    if not instance.made_undo then
      log.undo[#log.undo + 1] = { description = "ReaScript: Run", flags = -1, automatic = true, script = path,
                                  changes = #log.outside_undo - outside_before }
    end
    finish(instance)
  elseif has_deferred(instance) then
    instances[path] = instance
  else
    finish(instance)
  end
end

local function count_new_tracks()
  return #project.tracks - #(P.tracks or {})
end

--- Run REAPER's defer cycles: every queued call once per cycle, `interval_s` apart, until a condition or limit.
local function run_defer(opts)
  local interval = opts.interval_s or 0.05
  local deadline = now() + (opts.timeout_s or 30)
  local stop_at = opts.for_s and (now() + opts.for_s) or nil
  local extra_left = nil
  for _ = 1, opts.max_iterations or 100 do
    if #defer_queue == 0 then break end
    local queue = defer_queue
    defer_queue = {}
    log.defer_iterations = log.defer_iterations + 1
    local seen = {}
    for _, entry in ipairs(queue) do
      seen[entry.instance] = true
      local held = call(entry.instance, entry.fn, "deferred " .. entry.instance.script)
      if held > log.max_deferred_s then log.max_deferred_s = held end
    end
    for instance in pairs(seen) do
      if not instance.finished and not has_deferred(instance) then finish(instance) end
    end
    if extra_left then
      extra_left = extra_left - 1
      if extra_left <= 0 then break end
    elseif (opts.until_tracks and count_new_tracks() >= opts.until_tracks)
        or (opts.until_messages and #log.messages >= opts.until_messages)
        or (opts.until_idle and not next(instances, nil) and #defer_queue == 0) then
      extra_left = opts.extra or 5
    end
    if now() > deadline or (stop_at and now() >= stop_at) then break end
    sleep(interval)
  end
end

local function wait_file(path, timeout_s)
  local deadline = now() + (timeout_s or 60)
  while now() < deadline do
    local f = io.open(path, "rb")
    if f then f:close() return true end
    sleep(0.01)
  end
  log.errors[#log.errors + 1] = "wait_file: " .. path .. " did not appear"
  return false
end

for _, step in ipairs(scenario.steps or {}) do
  if step.run then run_script(step.run) end
  if step.defer then run_defer(step.defer) end
  if step.cursor then project.cursor = step.cursor end
  if step.bpm then project.bpm = step.bpm end
  if step.ext then R.SetExtState(step.ext[1], step.ext[2], step.ext[3], false) end
  if step.touch then
    local f = assert(io.open(step.touch, "w"))
    f:write(string.format("%.6f\n", now()))
    f:close()
  end
  if step.wait_file then wait_file(step.wait_file, step.timeout_s) end
end
if scenario.exit ~= false then -- REAPER quits: every script still running ends
  local running = {}
  for _, instance in pairs(instances) do running[#running + 1] = instance end
  table.sort(running, function(a, b) return a.script < b.script end)
  for _, instance in ipairs(running) do terminate(instance, "REAPER quits") end
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
                     source_length = take and take.source and take.source.length or nil,
                     source_quarters = take and take.source and take.source.quarters or nil,
                     midi = take and take.source and take.source.midi or false,
                     playrate = take and take.playrate or nil,
                     preserve_pitch = take and take.preserve_pitch or nil, ext = item.ext, notes = item.notes,
                     take_markers = take and take.markers or {} })
  end
  local ext = {}
  for k, v in pairs(tr.ext) do ext[#ext + 1] = { key = k, value = v } end
  tracks[i] = ({ index = i - 1, name = tr.name, folder_depth = tr.depth, ext = ext, items = items })
end

local markers = {}
for i, m in ipairs(project.markers) do
  markers[i] = { isrgn = m.isrgn, pos = m.pos, rgnend = m.rgnend, name = m.name, number = m.number, color = m.color }
end

local dump = {
  tracks = tracks, messages = log.messages, inputs = log.inputs, commands = log.commands, undo = log.undo,
  outside_undo = log.outside_undo, errors = log.errors, toggles = log.toggles,
  toolbar_refreshes = log.toolbar_refreshes, defer_iterations = log.defer_iterations,
  peak_builds = log.peak_builds, undo_depth = undo_depth, ui_refresh_depth = ui_refresh_depth,
  pending_defers = #defer_queue, leaked_globals = leaked, destroyed_sources = log.destroyed_sources,
  console = log.console, runs = log.runs, task_dialogs = log.task_dialogs, terminated = log.terminated,
  max_deferred_s = log.max_deferred_s, action_options = log.action_options, ext_state = ext_state,
  cursor = project.cursor, bpm = project.bpm, markers = markers,
}
local f = assert(io.open(out_path, "w"))
f:write(encode(dump))
f:close()
