-- @description MAGE: Add a track to the selected item
-- @author MAGE Bridge
-- @version 1.2.0
-- @changelog Section tools for MAGE clips: repaint the time selection, extend a clip (next/previous) and add a
--   track to it; their results land lined up with the source clip.
-- @about Asks which track to add to the selected MAGE clip (drums, bass, guitar, strings, vocals, ...) and an
--   optional description, and sends a lego job. The new track arrives through "MAGE - Listener" as a folder
--   of tracks named "MAGE lego <track>", lined up with the item (same position, trim and play rate).

local edit = dofile(debug.getinfo(1, "S").source:match("^@?(.*[/\\])") .. "mage_bridge_edit.lua")

edit.add_track()
