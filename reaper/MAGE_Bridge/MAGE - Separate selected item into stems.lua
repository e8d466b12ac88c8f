-- @description MAGE: Separate selected item into stems
-- @author MAGE Bridge
-- @version 1.2.0
-- @changelog Section tools for MAGE clips: repaint the time selection, extend a clip (next/previous) and add a
--   track to it; their results land lined up with the source clip.
-- @about Sends the selected item's audio file to the MAGE Bridge daemon for separation into vocals, drums,
--   bass and other. The stems arrive through "MAGE - Listener" as a folder of tracks lined up with the item.

local lib = dofile(debug.getinfo(1, "S").source:match("^@?(.*[/\\])") .. "mage_bridge_lib.lua")

lib.send_selected_item("separate")
