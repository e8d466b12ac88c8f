-- @description MAGE: Master selected item
-- @author MAGE Bridge
-- @version 1.2.0
-- @changelog Section tools for MAGE clips: repaint the time selection, extend a clip (next/previous) and add a
--   track to it; their results land lined up with the source clip.
-- @about Sends the selected item's audio file to the MAGE Bridge daemon for mastering (-14 LUFS, -1 dBTP by
--   default). The mastered file arrives through "MAGE - Listener" on a new track lined up with the item.

local lib = dofile(debug.getinfo(1, "S").source:match("^@?(.*[/\\])") .. "mage_bridge_lib.lua")

lib.send_selected_item("master")
