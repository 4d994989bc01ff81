// Metric value -> colour for nodes and the legend: green (good) through yellow to red (bad),
// tuned for the light or dark palette so text stays readable on the fill.
#pragma once

#include <QColor>
#include <QPalette>

#include "widgets/graph/graph_model.h"

namespace qs::widgets {

// 0 = as good as `scale.good`, 1 = as bad as `scale.bad` (clamped); NaN when `value` is NaN
// or the scale is unset.
double badness(double value, const MetricScale& scale);
// The fill for a badness in [0, 1].
QColor badnessColour(double badness, const QPalette& palette);
// Black or white, whichever reads better on `fill`.
QColor textColourOn(const QColor& fill);
bool isDarkPalette(const QPalette& palette);

}  // namespace qs::widgets
