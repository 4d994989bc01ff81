// Shared look of the tensor views: colour gradients, palette-aware axes, number text.
#pragma once

#include <QColor>
#include <QString>

class QCPColorGradient;
class QCustomPlot;
class QCPAxis;

namespace qs::widgets {

enum class Gradient { Auto, Viridis, Diverging, Grayscale, Thermal };

QCPColorGradient viridisGradient();
// Blue - near white - red, for signed values centred on 0.
QCPColorGradient divergingGradient();
// -1 blue (qmin), 0 light grey, +1 red (qmax).
QCPColorGradient saturationGradient();
QCPColorGradient makeGradient(Gradient g, bool signedValues);

// Fonts and colours from the widget palette (light or dark), no interactions.
void stylePlot(QCustomPlot* plot);
// The legend in its own row under the axes, laid out in columns, so it never covers data.
void legendBelow(QCustomPlot* plot);
// Presentation (workshop) mode: thicker axes and stronger grid lines. restylePlot() applies the
// plot's current font (the application font: larger in workshop mode) to its axes, legend,
// titles and text items, which QCustomPlot copies at construction and would otherwise keep.
void setPresentationMode(bool on);
bool presentationMode();
void restylePlot(QCustomPlot* plot);
QColor plotAccent(int index);  // a small qualitative palette
QColor clipColour();

// Compact number text: 4 significant digits, no trailing zeros.
QString num(double v);

}  // namespace qs::widgets
