-- @description MAGE: Separate selected item into stems
-- @author MAGE Bridge
-- @about Sends the selected item's audio file to the MAGE Bridge daemon for separation into vocals, drums,
--   bass and other. The stems arrive through "MAGE - Listener" as a folder of tracks lined up with the item.

local lib = dofile(debug.getinfo(1, "S").source:match("^@?(.*[/\\])") .. "mage_bridge_lib.lua")

local function main()
  local alive, why = lib.daemon_alive(lib.state_dir())
  if not alive then return lib.message(why) end
  local item, err = lib.selected_audio_item()
  if not item then return lib.message("Nothing sent: " .. err .. ".") end
  local req_id, submit_err = lib.submit("separate", {
    audio_path = item.file, position = { seconds = item.position },
    take_offset_s = item.take_offset, length_s = item.length,
  })
  if not req_id then return lib.message(submit_err) end
  lib.warn_without_listener()
end

main()
