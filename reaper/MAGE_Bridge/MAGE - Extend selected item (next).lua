-- @description MAGE: Extend selected item (next)
-- @author MAGE Bridge
-- @version 1.3.0
-- @changelog A clip with vocals brings its lyrics onto the vocals item: the tagged text in the item notes and a
--   take marker at each sung line's first syllable, named with the line (take markers: REAPER 5.981+).
-- @about Sends an extend job for the selected MAGE clip (8 bars, or the ext state MAGE_Bridge/extend_bars) that
--   continues the clip after its end: the new clip arrives through "MAGE - Listener" as a folder of tracks
--   starting where the clip's audio ends.

local edit = dofile(debug.getinfo(1, "S").source:match("^@?(.*[/\\])") .. "mage_bridge_edit.lua")

edit.extend("after")
