-- @description MAGE: Separate selected item into stems
-- @author MAGE Bridge
-- @version 1.3.0
-- @changelog A clip with vocals brings its lyrics onto the vocals item: the tagged text in the item notes and a
--   take marker at each sung line's first syllable, named with the line (take markers: REAPER 5.981+).
-- @about Sends the selected item's audio file to the MAGE Bridge daemon for separation into vocals, drums,
--   bass and other. The stems arrive through "MAGE - Listener" as a folder of tracks lined up with the item.

local lib = dofile(debug.getinfo(1, "S").source:match("^@?(.*[/\\])") .. "mage_bridge_lib.lua")

lib.send_selected_item("separate")
