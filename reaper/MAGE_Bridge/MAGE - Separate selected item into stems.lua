-- @description MAGE: Separate selected item into stems
-- @author MAGE Bridge
-- @version 1.1.0
-- @about Sends the selected item's audio file to the MAGE Bridge daemon for separation into vocals, drums,
--   bass and other. The stems arrive through "MAGE - Listener" as a folder of tracks lined up with the item.

local lib = dofile(debug.getinfo(1, "S").source:match("^@?(.*[/\\])") .. "mage_bridge_lib.lua")

lib.send_selected_item("separate")
