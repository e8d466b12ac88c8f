-- @description MAGE: Listener (toggle)
-- @author MAGE Bridge
-- @version 1.3.0
-- @changelog A clip with vocals brings its lyrics onto the vocals item: the tagged text in the item notes and a
--   take marker at each sung line's first syllable, named with the line (take markers: REAPER 5.981+).
-- @about Runs in the background (a toggle action: put it on a toolbar; run it again to turn it off).
--   Picks up finished MAGE Bridge jobs for the current project from the daemon's outbox and inserts
--   their stems as a named folder of tracks, with a region per section of a generated clip and its lyrics
--   on the vocals item (item notes, a take marker per line) (one undo block, peaks built); tells the daemon the project's tempo, metre and edit cursor the moment they
--   change, so jobs triggered from a MIDI controller or OSC land on the bar at or after the cursor.

local lib = dofile(debug.getinfo(1, "S").source:match("^@?(.*[/\\])") .. "mage_bridge_lib.lua")

local POLL_S = 0.2       -- look at the outbox this often (at once when the daemon says a job ended)
local HEARTBEAT_S = 1.0  -- read the daemon's heartbeat at most this often

local state = { last_poll = -math.huge, last_sent = -math.huge, sent = nil, link = {},
                beat = nil, why = nil, beat_read = -math.huge, daemon_warned = false, last_beat = 0 }

--- The daemon's heartbeat (read at most once a second), or nil and why it is not running.
local function daemon(now)
  if now - state.beat_read >= HEARTBEAT_S then
    state.beat_read = now
    state.beat, state.why = lib.daemon_alive(lib.state_dir())
  end
  return state.beat, state.why
end

--- Tempo, metre, cursor and project, looked at on every tick: sent the moment they change, and again
--- every lib.CONTEXT_REFRESH_S so the daemon keeps this REAPER as a DAW it sends jobs to.
local function report_context(now)
  local report = lib.context_report()
  local changed = not lib.same_report(report, state.sent)
  if not changed and now - state.last_sent < lib.CONTEXT_REFRESH_S then return end
  local beat, why = daemon(now)
  if not beat then
    if not state.daemon_warned then
      state.daemon_warned = true
      lib.message(why .. "\n\nThe listener keeps running and picks results up once the daemon is back.")
    end
    return
  end
  state.daemon_warned = false
  local how, err = lib.send_context(state.link, beat, lib.state_dir(), report)
  if how == "osc" or how == "spool" then
    state.sent, state.last_sent = report, now
  elseif not how and err ~= state.context_error then
    state.context_error = err -- said once, not on every tick
    reaper.ShowConsoleMsg("MAGE Bridge: cannot tell the daemon the tempo and cursor: " .. tostring(err) .. "\n")
  end
end

--- What the daemon sent over OSC: a job that ended means a new outbox record, so look now.
local function read_link()
  local messages = lib.drain_link(state.link, lib.state_dir())
  if not messages then
    state.sent = nil -- the socket failed: the next report goes through the spool
    return
  end
  for _, msg in ipairs(messages) do
    if msg.address == "/mage/job/done" or msg.address == "/mage/job/failed" then state.last_poll = -math.huge end
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
  read_link()
  report_context(now)
  if now - state.last_poll >= POLL_S then
    state.last_poll = now
    poll_outbox()
  end
  reaper.defer(tick)
end

local function main()
  local _, _, section, command = reaper.get_action_context()
  if reaper.set_action_options then
    -- REAPER 7.03+: running the action again ends this instance (no "ReaScript task control" dialog);
    -- the toggle state goes on now and off in atexit.
    reaper.set_action_options(1 | 4)
  else
    reaper.SetToggleCommandState(section, command, 1)
  end
  reaper.RefreshToolbar2(section, command)
  reaper.atexit(function()
    lib.close_link(state.link)
    reaper.SetToggleCommandState(section, command, 0)
    reaper.RefreshToolbar2(section, command)
    reaper.DeleteExtState(lib.EXT, "listener_beat", false)
  end)
  -- Everything happens in deferred calls: a script that defers gets no automatic "ReaScript: Run" undo
  -- point, and a result inserted on the first tick has its own undo point.
  reaper.defer(tick)
end

main()
