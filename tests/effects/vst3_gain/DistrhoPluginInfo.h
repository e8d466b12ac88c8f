/* MageTestGain: a stereo gain VST3 for the effects tests (no UI). Built by tests/effects/conftest.py. */

#ifndef DISTRHO_PLUGIN_INFO_H_INCLUDED
#define DISTRHO_PLUGIN_INFO_H_INCLUDED

#define DISTRHO_PLUGIN_BRAND "MAGE Bridge"
#define DISTRHO_PLUGIN_NAME  "MageTestGain"
#define DISTRHO_PLUGIN_URI   "urn:mage-bridge:tests:gain"

#define DISTRHO_PLUGIN_HAS_UI        0
#define DISTRHO_PLUGIN_IS_RT_SAFE    1
#define DISTRHO_PLUGIN_NUM_INPUTS    2
#define DISTRHO_PLUGIN_NUM_OUTPUTS   2
#define DISTRHO_PLUGIN_VST3_CATEGORIES "Fx|Stereo"

#endif
