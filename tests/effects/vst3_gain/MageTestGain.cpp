/* MageTestGain: out = in × 10^(gain_db / 20) on both channels; one parameter, "Gain" in dB (−24 to +12, default 0).

No smoothing, so a test can check the level change exactly.
*/

#include "DistrhoPlugin.hpp"

#include <cmath>

START_NAMESPACE_DISTRHO

class MageTestGain : public Plugin
{
public:
    MageTestGain() : Plugin(1, 0, 0), fGainDb(0.0f), fFactor(1.0f) {}

protected:
    const char* getLabel() const override { return "MageTestGain"; }
    const char* getDescription() const override { return "Stereo gain for the MAGE Bridge VST3 hosting tests."; }
    const char* getMaker() const override { return "MAGE Bridge"; }
    const char* getLicense() const override { return "GPL-3.0-or-later"; }
    uint32_t getVersion() const override { return d_version(1, 0, 0); }
    int64_t getUniqueId() const override { return d_cconst('M', 'g', 'G', 'n'); }

    void initParameter(uint32_t index, Parameter& parameter) override
    {
        if (index != 0)
            return;
        parameter.hints = kParameterIsAutomatable;
        parameter.name = "Gain";
        parameter.symbol = "gain_db";
        parameter.unit = "dB";
        parameter.ranges.def = 0.0f;
        parameter.ranges.min = -24.0f;
        parameter.ranges.max = 12.0f;
    }

    float getParameterValue(uint32_t index) const override
    {
        return index == 0 ? fGainDb : 0.0f;
    }

    void setParameterValue(uint32_t index, float value) override
    {
        if (index != 0)
            return;
        fGainDb = value;
        fFactor = std::pow(10.0f, value / 20.0f);
    }

    void run(const float** inputs, float** outputs, uint32_t frames) override
    {
        for (uint32_t ch = 0; ch < 2; ++ch)
            for (uint32_t i = 0; i < frames; ++i)
                outputs[ch][i] = inputs[ch][i] * fFactor;
    }

private:
    float fGainDb;
    float fFactor;

    DISTRHO_DECLARE_NON_COPYABLE_WITH_LEAK_DETECTOR(MageTestGain)
};

Plugin* createPlugin()
{
    return new MageTestGain();
}

END_NAMESPACE_DISTRHO
