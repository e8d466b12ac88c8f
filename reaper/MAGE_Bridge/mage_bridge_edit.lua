-- @noindex
-- @version 1.3.0
-- MAGE Bridge: shared code of the section tools (repaint, extend, add a track; loaded with dofile; defines
-- no globals). Each works on the MAGE clip the selected item plays and sends a job whose audio_path is the
-- clip's manifest.json and whose times are seconds from the clip's start (the start of its audio file). The
-- result comes back through "MAGE - Listener" lined up with the source: a repaint or an added track at the
-- item's position with its trim and play rate (the result has the clip's timeline), an extension where the
-- clip's audio ends (next) or ending where it starts (previous). See docs/daw.md, "Section tools".

local lib = dofile(debug.getinfo(1, "S").source:match("^@?(.*[/\\])") .. "mage_bridge_lib.lua")

local M = {}

M.EXTEND_BARS = 8              -- bars an extension adds, unless the ext state MAGE_Bridge/extend_bars says
M.MAX_EXTEND_BARS = 64
M.MIN_RANGE_S = 0.05           -- a repaint shorter than this is a click, not a selection
M.LEGO_TRACKS = { "woodwinds", "brass", "fx", "synth", "strings", "percussion", "keyboard", "guitar", "bass",
                  "drums", "backing_vocals", "vocals" }
local MANIFEST_SCHEMA = "mage-bridge/manifest"

local function dirname(path)
  return path:match("^(.*)[/\\][^/\\]*$") or "."
end

--- The manifest of the MAGE clip an item plays: the one the Listener marked the item with (item ext state
--- P_EXT:mage_manifest), else a manifest.json beside the take's audio file. Returns path, manifest or nil, why.
local function clip_manifest(item, file)
  local _, marked = reaper.GetSetMediaItemInfo_String(item, "P_EXT:" .. lib.ITEM_MANIFEST_KEY, "", false)
  local path
  if marked and marked ~= "" and reaper.file_exists(marked) then
    path = marked
  elseif file ~= "" and reaper.file_exists(lib.join(dirname(file), "manifest.json")) then
    path = lib.join(dirname(file), "manifest.json")
  end
  if not path then
    return nil, "the selected item is not a MAGE clip (" .. (file ~= "" and file:match("([^/\\]+)$") or "no file")
      .. " has no manifest.json beside it); select an item the Listener brought in"
  end
  local manifest, err = lib.read_json(path)
  local schema = manifest and lib.field(manifest, "schema")
  if not manifest or type(schema) ~= "string" or schema:sub(1, #MANIFEST_SCHEMA) ~= MANIFEST_SCHEMA then
    return nil, "the selected item is not a MAGE clip (" .. path .. " is not a MAGE manifest"
      .. (err and (": " .. err) or "") .. ")"
  end
  return path, manifest
end

--- The selected item's MAGE clip and where it plays. Times are project seconds; the clip's audio file
--- starts playing at clip_start (item position minus the take's start offset at its play rate) and ends at
--- clip_end. Returns a table or nil, why.
function M.selected_clip()
  local item = reaper.GetSelectedMediaItem(0, 0)
  if not item then return nil, "select an item of a MAGE clip first" end
  local take = reaper.GetActiveTake(item)
  if not take or reaper.TakeIsMIDI(take) then return nil, "the selected item has no audio take" end
  local source = reaper.GetMediaItemTake_Source(take)
  local parent = source and reaper.GetMediaSourceParent(source)
  source = parent or source
  local file = source and reaper.GetMediaSourceFileName(source, "") or ""
  local manifest_path, manifest = clip_manifest(item, file or "")
  if not manifest_path then return nil, manifest end
  local position = reaper.GetMediaItemInfo_Value(item, "D_POSITION")
  local offset = reaper.GetMediaItemTakeInfo_Value(take, "D_STARTOFFS")
  local rate = reaper.GetMediaItemTakeInfo_Value(take, "D_PLAYRATE")
  if not rate or rate <= 0 then rate = 1.0 end
  local source_length = tonumber(lib.field(manifest, "duration_s")) or reaper.GetMediaSourceLength(source)
  local clip_start = position - offset / rate
  return { manifest_path = manifest_path, manifest = manifest, position = position,
           length = reaper.GetMediaItemInfo_Value(item, "D_LENGTH"), offset = offset, rate = rate,
           source_length = source_length, clip_start = clip_start, clip_end = clip_start + source_length / rate }
end

--- Seconds from the clip's start of project time t.
local function clip_time(clip, t)
  return (t - clip.clip_start) * clip.rate
end

--- The time selection over the selected item, as seconds from the clip's start: start_s, end_s or nil, why.
--- The selection is cut to the item; one outside the item (or over a repeat of a looped item) is refused.
function M.selected_range(clip)
  local sel_start, sel_end = reaper.GetSet_LoopTimeRange2(0, false, false, 0, 0, false)
  if not sel_start or not sel_end or sel_end - sel_start < 1e-9 then
    return nil, "make a time selection over the part of the selected item to repaint first"
  end
  local item_end = clip.position + clip.length
  local a, b = math.max(sel_start, clip.position), math.min(sel_end, item_end)
  if b - a < M.MIN_RANGE_S / clip.rate then
    return nil, string.format("the time selection (%.3f-%.3f s) is outside the selected item (%.3f-%.3f s)",
      sel_start, sel_end, clip.position, item_end)
  end
  local start_s, end_s = clip_time(clip, a), clip_time(clip, b)
  if start_s < -1e-6 or end_s > clip.source_length + 1e-3 then
    return nil, string.format("the time selection reaches %.3f s into the clip, past its %.3f s of audio "
      .. "(the item loops it); select within the clip's first pass", end_s, clip.source_length)
  end
  return math.max(0.0, start_s), math.min(end_s, clip.source_length)
end

--- The fields of a request whose result has the source clip's timeline (repaint, lego): it goes where the
--- item is, trimmed like it and at its play rate.
local function in_place(clip, label)
  return { position = { seconds = clip.position }, take_offset_s = clip.offset, length_s = clip.length,
           play_rate = clip.rate, label = label }
end

--- Common start of every section tool: the daemon is there and the selected item is a MAGE clip.
--- Returns the clip, or nil after telling the user why nothing was sent.
local function begin()
  lib.begin_action()
  local alive, why = lib.daemon_alive(lib.state_dir())
  if not alive then return lib.message(why) end
  local clip, err = M.selected_clip()
  if not clip then return lib.message("Nothing sent: " .. err .. ".") end
  return clip
end

--- "MAGE - Repaint time selection of the selected item".
function M.repaint()
  local clip = begin()
  if not clip then return end
  local start_s, end_s = M.selected_range(clip)
  if not start_s then return lib.message("Nothing sent: " .. end_s .. ".") end
  local fields = in_place(clip, string.format("repaint %.1f-%.1f s", start_s, end_s))
  fields.audio_path, fields.options = clip.manifest_path, { start_s = start_s, end_s = end_s }
  lib.send_job("repaint", fields)
end

--- Bars an extension adds: the ext state MAGE_Bridge/extend_bars (1 to MAX_EXTEND_BARS), else EXTEND_BARS.
function M.extend_bars()
  local bars = math.tointeger(tonumber(reaper.GetExtState(lib.EXT, "extend_bars")))
  if not bars or bars < 1 or bars > M.MAX_EXTEND_BARS then bars = M.EXTEND_BARS end
  return bars
end

--- "MAGE - Extend selected item (next/previous)": side "after" puts the new clip where the clip's audio
--- ends; "before" ends it where the clip's audio starts.
function M.extend(side)
  local clip = begin()
  if not clip then return end
  local bars = M.extend_bars()
  local label = string.format("extend %s %d bars", side, bars)
  local fields = { audio_path = clip.manifest_path, options = { side = side, bars = bars }, play_rate = clip.rate,
                   label = label }
  if side == "after" then
    fields.position = { seconds = clip.clip_end }
  else
    if clip.clip_start < 1e-3 then
      return lib.message("Nothing sent: the clip starts at the project start, so there is no room before it; "
        .. "move it later first.")
    end
    fields.position, fields.align = { seconds = clip.clip_start }, "end"
  end
  lib.send_job("extend", fields)
end

local function known_track(name)
  for _, t in ipairs(M.LEGO_TRACKS) do
    if t == name then return true end
  end
  return false
end

--- "MAGE - Add a track to the selected item": asks which track (the last one is prefilled) and an optional
--- description, and sends a lego job; the track's stems arrive lined up with the item.
function M.add_track()
  local clip = begin()
  if not clip then return end
  local last = reaper.GetExtState(lib.EXT, "lego_track")
  if last == "" then last = "drums" end
  local ok, answer = reaper.GetUserInputs("MAGE: Add a track to the selected item", 2,
    "Track (" .. table.concat(M.LEGO_TRACKS, " ") .. "),Description (optional),extrawidth=320,separator=\n",
    last .. "\n")
  if not ok then return end
  local track, prompt = (answer .. "\n"):match("^(.-)\n(.-)\n")
  track = (track or ""):match("^%s*(.-)%s*$"):lower():gsub("[%s-]+", "_")
  prompt = (prompt or ""):match("^%s*(.-)%s*$")
  if not known_track(track) then
    return lib.message("Nothing sent: the track must be one of " .. table.concat(M.LEGO_TRACKS, ", ")
      .. "; got \"" .. track .. "\".")
  end
  reaper.SetExtState(lib.EXT, "lego_track", track, true)
  local fields = in_place(clip, "lego " .. track)
  fields.audio_path, fields.options = clip.manifest_path, { track = track, prompt = prompt ~= "" and prompt or nil }
  lib.send_job("lego", fields)
end

return M
