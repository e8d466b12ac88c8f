-- @description MAGE: Extend selected item (previous)
-- @author MAGE Bridge
-- @version 1.2.0
-- @changelog Section tools for MAGE clips: repaint the time selection, extend a clip (next/previous) and add a
--   track to it; their results land lined up with the source clip.
-- @about Sends an extend job for the selected MAGE clip (8 bars, or the ext state MAGE_Bridge/extend_bars) that
--   leads into the clip: the new clip arrives through "MAGE - Listener" as a folder of tracks ending where
--   the clip's audio starts.

local edit = dofile(debug.getinfo(1, "S").source:match("^@?(.*[/\\])") .. "mage_bridge_edit.lua")

edit.extend("before")
