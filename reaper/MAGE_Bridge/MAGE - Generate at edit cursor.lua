-- @description MAGE: Generate at edit cursor
-- @author MAGE Bridge
-- @version 1.3.0
-- @changelog A clip with vocals brings its lyrics onto the vocals item: the tagged text in the item notes and a
--   take marker at each sung line's first syllable, named with the line (take markers: REAPER 5.981+).
-- @about Asks for a prompt (BPM, key and metre prefilled from the project) and sends a generate job to the
--   MAGE Bridge daemon. The stems arrive through "MAGE - Listener" as a folder of tracks with beat 1 of
--   the groove on the bar at or after the edit cursor (the lead-in before it), or exactly at the cursor
--   when "Place at" says "cursor". The clip is made at the project's tempo and metre, a whole number of
--   bars long, unless the dialog's BPM or time signature is changed.

local lib = dofile(debug.getinfo(1, "S").source:match("^@?(.*[/\\])") .. "mage_bridge_lib.lua")

local function trim(s)
  return (s or ""):match("^%s*(.-)%s*$")
end

--- "G minor", "Gm", "F# major", "Bb" -> key, mode (nil, nil for empty); nil, message if unreadable.
local function parse_key(text)
  text = trim(text)
  if text == "" then return nil, nil end
  local tonic, rest = text:match("^([A-Ga-g][#b]?)%s*(.*)$")
  if not tonic then return nil, "key must look like \"G minor\" or \"F# major\", got \"" .. text .. "\"" end
  tonic = tonic:sub(1, 1):upper() .. tonic:sub(2)
  rest = rest:lower()
  if rest == "" or rest == "major" or rest == "maj" then return tonic, rest ~= "" and "major" or nil end
  if rest == "minor" or rest == "min" or rest == "m" then return tonic, "minor" end
  return nil, "key mode must be major or minor, got \"" .. rest .. "\""
end

local PLACES = { bar = true, cursor = true }

local function ask(project)
  local ctx = lib.context()
  local _, last_prompt = reaper.GetProjExtState(project.handle, lib.EXT, "last_prompt")
  local _, last_key = reaper.GetProjExtState(project.handle, lib.EXT, "last_key")
  local place = reaper.GetExtState(lib.EXT, "place")
  if not PLACES[place] then place = "bar" end
  local defaults = { last_prompt or "", string.format("%.6g", ctx.bpm), last_key or "",
                     string.format("%d/%d", ctx.numerator, ctx.denominator), "32", "", place }
  local ok, answer = reaper.GetUserInputs("MAGE: Generate at edit cursor", #defaults,
    "Prompt,BPM,Key (e.g. G minor; empty: from the prompt),Time signature,Length (s; or e.g. 8 bars),"
      .. "Seed (empty: random),Place at (bar / cursor),extrawidth=320,separator=\n",
    table.concat(defaults, "\n"))
  if not ok then return nil end
  local fields = {}
  for value in (answer .. "\n"):gmatch("(.-)\n") do fields[#fields + 1] = trim(value) end
  return fields, ctx
end

--- The request's options from the dialog. BPM and time signature go into the request only when they
--- differ from the project's at the cursor: left as prefilled, the daemon makes the clip at the
--- project's tempo and metre (the project wins over a tempo in the prompt); changed, they win.
local function options_from(fields, ctx)
  local prompt, bpm_text, key_text, metre_text, length_text, seed_text, place_text = table.unpack(fields, 1, 7)
  if not prompt or prompt == "" then return nil, "the prompt is empty" end
  local options = {}
  bpm_text = bpm_text or ""
  if bpm_text ~= "" then
    local bpm = tonumber(bpm_text)
    if not bpm or bpm < 40 or bpm > 240 then return nil, "BPM must be a number from 40 to 240, got " .. bpm_text end
    if bpm ~= tonumber(string.format("%.6g", ctx.bpm)) then options.bpm = bpm end -- as prefilled: not sent
  end
  local key, mode = parse_key(key_text)
  if key == nil and mode then return nil, mode end
  options.key, options.mode = key, mode
  metre_text = metre_text or ""
  if metre_text ~= "" then
    local num, den = metre_text:match("^(%d+)%s*/%s*(%d+)$")
    if not num then return nil, "time signature must look like 4/4 or 6/8, got " .. metre_text end
    num, den = math.tointeger(tonumber(num)), math.tointeger(tonumber(den))
    if num ~= ctx.numerator or den ~= ctx.denominator then options.time_signature = { num, den } end
  end
  length_text = length_text or ""
  local bars = length_text:match("^(%d+)%s*bars?$")
  if bars then
    bars = math.tointeger(tonumber(bars))
    if bars < 1 or bars > 256 then return nil, "length must be from 1 to 256 bars, got " .. length_text end
    options.bars = bars
  elseif length_text ~= "" then
    local seconds = tonumber(length_text)
    if not seconds or seconds < 4 or seconds > 120 then
      return nil, "length must be from 4 to 120 seconds (or e.g. \"8 bars\"), got " .. length_text
    end
    options.duration_s = seconds
  end
  if seed_text and seed_text ~= "" then
    local seed = math.tointeger(tonumber(seed_text))
    if not seed or seed < 0 then return nil, "seed must be a whole number >= 0, got " .. seed_text end
    options.seed = seed
  end
  local place = (place_text or ""):lower()
  if place == "" then place = "bar" end
  if not PLACES[place] then return nil, "place at must be \"bar\" or \"cursor\", got " .. place_text end
  return prompt, options, place
end

local function main()
  lib.begin_action()
  local alive, why = lib.daemon_alive(lib.state_dir())
  if not alive then return lib.message(why) end
  local project = lib.project()
  local fields, ctx = ask(project)
  if not fields then return end
  local prompt, options, place = options_from(fields, ctx)
  if not prompt then return lib.message("Nothing sent: " .. options .. ".") end
  reaper.SetProjExtState(project.handle, lib.EXT, "last_prompt", prompt)
  reaper.SetProjExtState(project.handle, lib.EXT, "last_key", fields[3] or "")
  reaper.SetExtState(lib.EXT, "place", place, true)
  -- "bar": no position, the daemon places the clip on the bar at or after the cursor of the context
  -- sent with the request (beat 1 of the body on the bar line). "cursor": the item starts at the cursor.
  local position = place == "cursor" and { seconds = reaper.GetCursorPosition() } or nil
  lib.send_job("generate", { prompt = prompt, options = options, position = position })
end

main()
