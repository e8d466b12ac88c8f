-- @description MAGE: Generate at edit cursor
-- @author MAGE Bridge
-- @about Asks for a prompt (BPM, key and metre prefilled from the project) and sends a generate job to the
--   MAGE Bridge daemon. The stems arrive as a folder of tracks at the edit cursor through "MAGE - Listener".

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

local function ask(project)
  local ctx = lib.context()
  local _, last_prompt = reaper.GetProjExtState(project.handle, lib.EXT, "last_prompt")
  local _, last_key = reaper.GetProjExtState(project.handle, lib.EXT, "last_key")
  local defaults = { last_prompt or "", string.format("%.6g", ctx.bpm), last_key or "",
                     string.format("%d/%d", ctx.numerator, ctx.denominator), "32", "" }
  local ok, answer = reaper.GetUserInputs("MAGE: Generate at edit cursor", #defaults,
    "Prompt,BPM,Key (e.g. G minor; empty: from the prompt),Time signature,Length (s),"
      .. "Seed (empty: random),extrawidth=320,separator=\n",
    table.concat(defaults, "\n"))
  if not ok then return nil end
  local fields = {}
  for value in (answer .. "\n"):gmatch("(.-)\n") do fields[#fields + 1] = trim(value) end
  return fields
end

local function options_from(fields)
  local prompt, bpm_text, key_text, metre_text, length_text, seed_text = table.unpack(fields, 1, 6)
  if not prompt or prompt == "" then return nil, "the prompt is empty" end
  local options = {}
  if bpm_text ~= "" then
    local bpm = tonumber(bpm_text)
    if not bpm or bpm < 40 or bpm > 240 then return nil, "BPM must be a number from 40 to 240, got " .. bpm_text end
    options.bpm = bpm
  end
  local key, mode = parse_key(key_text)
  if key == nil and mode then return nil, mode end
  options.key, options.mode = key, mode
  if metre_text ~= "" then
    local num, den = metre_text:match("^(%d+)%s*/%s*(%d+)$")
    if not num then return nil, "time signature must look like 4/4 or 6/8, got " .. metre_text end
    options.time_signature = { tonumber(num), tonumber(den) }
  end
  if length_text ~= "" then
    local seconds = tonumber(length_text)
    if not seconds or seconds < 4 or seconds > 120 then
      return nil, "length must be from 4 to 120 seconds, got " .. length_text
    end
    options.duration_s = seconds
  end
  if seed_text and seed_text ~= "" then
    local seed = math.tointeger(tonumber(seed_text))
    if not seed or seed < 0 then return nil, "seed must be a whole number >= 0, got " .. seed_text end
    options.seed = seed
  end
  return prompt, options
end

local function main()
  local alive, why = lib.daemon_alive(lib.state_dir())
  if not alive then return lib.message(why) end
  local project = lib.project()
  local fields = ask(project)
  if not fields then return end
  local prompt, options = options_from(fields)
  if not prompt then return lib.message("Nothing sent: " .. options .. ".") end
  reaper.SetProjExtState(project.handle, lib.EXT, "last_prompt", prompt)
  reaper.SetProjExtState(project.handle, lib.EXT, "last_key", fields[3] or "")
  local req_id, err = lib.submit("generate", { prompt = prompt, options = options,
                                               position = { seconds = reaper.GetCursorPosition() } })
  if not req_id then return lib.message(err) end
  lib.warn_without_listener()
end

main()
