-- @description MAGE: Listener (toggle)
-- @author MAGE Bridge
-- @about Runs in the background (a toggle action: put it on a toolbar). Picks up finished MAGE Bridge jobs
--   for the current project from the daemon's outbox and inserts their stems as a named folder of tracks
--   (one undo block, peaks built); reports the project's tempo, metre and edit cursor to the daemon so
--   jobs triggered from a MIDI controller or OSC land on the next bar.

local lib = dofile(debug.getinfo(1, "S").source:match("^@?(.*[/\\])") .. "mage_bridge_lib.lua")

local POLL_S = 0.2         -- look at the outbox this often
local CONTEXT_S = 1.0      -- look at tempo/metre/cursor this often; send when changed
local CONTEXT_REFRESH_S = 10.0

local state = { last_poll = -math.huge, last_context = -math.huge, last_sent = -math.huge,
                sent = nil, daemon_warned = false, last_beat = 0 }

local function same_context(a, b)
  return a and b and a.bpm == b.bpm and a.numerator == b.numerator and a.denominator == b.denominator
    and math.abs(a.cursor_s - b.cursor_s) < 1e-3
end

local function report_context(now)
  local ctx = lib.context()
  if same_context(ctx, state.sent) and now - state.last_sent < CONTEXT_REFRESH_S then return end
  local alive, why = lib.daemon_alive(lib.state_dir())
  if not alive then
    if not state.daemon_warned then
      state.daemon_warned = true
      lib.message(why .. "\n\nThe listener keeps running and picks results up once the daemon is back.")
    end
    return
  end
  state.daemon_warned = false
  if lib.submit("context", {}) then
    state.sent, state.last_sent = ctx, now
  end
end

local function describe_failure(record)
  local kind = lib.field(record, "kind") or "job"
  local code = lib.field(record, "code") or lib.field(record, "event")
  local text = lib.field(record, "message") or ""
  local event = lib.field(record, "event")
  if event == "rejected" then
    return string.format("MAGE %s request refused: %s: %s", kind, code, text)
  end
  return string.format("MAGE %s job %s %s: %s: %s", kind, lib.field(record, "job_id") or "?",
    event == "cancelled" and "was cancelled" or "failed", code, text)
end

local function handle(record)
  if lib.field(record, "event") == "done" then
    local ok, err = lib.insert_result(record)
    if not ok then lib.message(err) end
  else
    lib.message(describe_failure(record))
  end
end

local function move_to_handled(folder, name)
  local handled = lib.join(folder, "handled")
  reaper.RecursiveCreateDirectory(handled, 0)
  if not os.rename(lib.join(folder, name), lib.join(handled, name)) then
    os.remove(lib.join(handled, name))
    if not os.rename(lib.join(folder, name), lib.join(handled, name)) then os.remove(lib.join(folder, name)) end
  end
end

--- Take the first outbox record that belongs to the current project (one per tick keeps REAPER responsive).
local function poll_outbox()
  local folder = lib.join(lib.state_dir(), "outbox", lib.CLIENT_ID)
  local project = lib.project()
  for _, name in ipairs(lib.list_files(folder, ".json")) do
    local record, err = lib.read_json(lib.join(folder, name))
    if not record then
      lib.message("MAGE: unreadable result record " .. name .. ": " .. tostring(err))
      move_to_handled(folder, name)
      return
    end
    local owner = lib.field(record, "project_id")
    if owner == nil or owner == project.id then
      handle(record)
      move_to_handled(folder, name)
      return
    end
  end
end

local function tick()
  local now = reaper.time_precise()
  if os.time() ~= state.last_beat then
    state.last_beat = os.time()
    reaper.SetExtState(lib.EXT, "listener_beat", tostring(state.last_beat), false)
  end
  if now - state.last_context >= CONTEXT_S then
    state.last_context = now
    report_context(now)
  end
  if now - state.last_poll >= POLL_S then
    state.last_poll = now
    poll_outbox()
  end
  reaper.defer(tick)
end

local function main()
  local _, _, section, command = reaper.get_action_context()
  reaper.SetToggleCommandState(section, command, 1)
  reaper.RefreshToolbar2(section, command)
  reaper.atexit(function()
    reaper.SetToggleCommandState(section, command, 0)
    reaper.RefreshToolbar2(section, command)
    reaper.DeleteExtState(lib.EXT, "listener_beat", false)
  end)
  tick()
end

main()
