-- @description MAGE: Extend selected item (next)
-- @author MAGE Bridge
-- @version 1.2.0
-- @changelog Section tools for MAGE clips: repaint the time selection, extend a clip (next/previous) and add a
--   track to it; their results land lined up with the source clip.
-- @about Sends an extend job for the selected MAGE clip (8 bars, or the ext state MAGE_Bridge/extend_bars) that
--   continues the clip after its end: the new clip arrives through "MAGE - Listener" as a folder of tracks
--   starting where the clip's audio ends.

local edit = dofile(debug.getinfo(1, "S").source:match("^@?(.*[/\\])") .. "mage_bridge_edit.lua")

edit.extend("after")
