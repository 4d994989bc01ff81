// Export and copy for every plot of the tensor views: a context menu with PNG, SVG, the CSV
// of the plotted data, and Copy (image plus CSV text on the clipboard).
#pragma once

#include <QString>
#include <functional>

class QCustomPlot;

namespace qs::widgets {

using CsvSource = std::function<QString()>;

// Installs the context menu on `plot`; `baseName` is the suggested file name.
void installPlotMenu(QCustomPlot* plot, CsvSource csv, const QString& baseName);
// By suffix: .svg (QSvgGenerator through QCPPainter), else PNG.
bool savePlotImage(QCustomPlot* plot, const QString& path, QString* error);
bool savePlotCsv(const CsvSource& csv, const QString& path, QString* error);
void copyPlot(QCustomPlot* plot, const CsvSource& csv);
// The CSV source installed on `plot` (empty when none).
CsvSource plotCsv(const QCustomPlot* plot);

}  // namespace qs::widgets
