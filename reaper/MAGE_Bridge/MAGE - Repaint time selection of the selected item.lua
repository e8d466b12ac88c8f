-- @description MAGE: Repaint time selection of the selected item
-- @author MAGE Bridge
-- @version 1.3.0
-- @changelog A clip with vocals brings its lyrics onto the vocals item: the tagged text in the item notes and a
--   take marker at each sung line's first syllable, named with the line (take markers: REAPER 5.981+).
-- @about Sends a repaint job for the part of the selected MAGE clip under the time selection (cut to the
--   item; times go as seconds from the clip's start, through the take's offset and play rate). The
--   repainted clip arrives through "MAGE - Listener" as a folder of tracks named "MAGE repaint <range>",
--   lined up with the item (same position, trim and play rate): only the selected range differs.

local edit = dofile(debug.getinfo(1, "S").source:match("^@?(.*[/\\])") .. "mage_bridge_edit.lua")

edit.repaint()
