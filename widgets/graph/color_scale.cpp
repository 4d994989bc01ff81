#include "widgets/graph/color_scale.h"

#include <algorithm>
#include <cmath>

namespace qs::widgets {

double badness(double value, const MetricScale& scale) {
    if (std::isnan(value) || !scale.valid()) return std::nan("");
    const double t = (value - scale.good) / (scale.bad - scale.good);
    return std::clamp(t, 0.0, 1.0);
}

bool isDarkPalette(const QPalette& palette) {
    return palette.color(QPalette::Window).lightnessF() < 0.5;
}

QColor badnessColour(double t, const QPalette& palette) {
    // Hue 120 (green) -> 0 (red); the yellow middle is kept a little darker so it does not
    // vanish on a white background.
    const double hue = 120.0 * (1.0 - std::clamp(t, 0.0, 1.0)) / 360.0;
    if (isDarkPalette(palette)) return QColor::fromHsvF(hue, 0.75, 0.62);
    return QColor::fromHsvF(hue, 0.55, 0.97 - 0.07 * std::sin(t * M_PI));
}

QColor textColourOn(const QColor& fill) {
    // Relative luminance with sRGB weights is close enough for picking black or white.
    const double y = 0.2126 * fill.redF() + 0.7152 * fill.greenF() + 0.0722 * fill.blueF();
    return y > 0.5 ? QColor(Qt::black) : QColor(Qt::white);
}

}  // namespace qs::widgets
