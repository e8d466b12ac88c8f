-- @description MAGE: Add a track to the selected item
-- @author MAGE Bridge
-- @version 1.3.0
-- @changelog A clip with vocals brings its lyrics onto the vocals item: the tagged text in the item notes and a
--   take marker at each sung line's first syllable, named with the line (take markers: REAPER 5.981+).
-- @about Asks which track to add to the selected MAGE clip (drums, bass, guitar, strings, vocals, ...) and an
--   optional description, and sends a lego job. The new track arrives through "MAGE - Listener" as a folder
--   of tracks named "MAGE lego <track>", lined up with the item (same position, trim and play rate).

local edit = dofile(debug.getinfo(1, "S").source:match("^@?(.*[/\\])") .. "mage_bridge_edit.lua")

edit.add_track()
