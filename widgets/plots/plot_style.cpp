#include "widgets/plots/plot_style.h"

#include <qcustomplot.h>

#include <cmath>

#include "widgets/plots/tensor_plot_data.h"

namespace qs::widgets {

QString mapQuantityName(MapQuantity q, bool quantized) {
    switch (q) {
        case MapQuantity::Reference:
            return QObject::tr("float value");
        case MapQuantity::Dequantized:
            return quantized ? QObject::tr("dequantized int value") : QObject::tr("engine value");
        case MapQuantity::Error:
            return QObject::tr("error");
        case MapQuantity::AbsError:
            return QObject::tr("|error|");
        case MapQuantity::ErrorLsb:
            return quantized ? QObject::tr("error (LSB)") : QObject::tr("error (float)");
        case MapQuantity::Saturation:
            return QObject::tr("saturation");
    }
    return {};
}

bool mapQuantitySigned(MapQuantity q) {
    return q == MapQuantity::Error || q == MapQuantity::ErrorLsb || q == MapQuantity::Saturation;
}

QCPColorGradient viridisGradient() {
    QCPColorGradient g;
    g.clearColorStops();
    // Stops of matplotlib's viridis (perceptually uniform, readable in grey).
    g.setColorStopAt(0.0, QColor(68, 1, 84));
    g.setColorStopAt(0.25, QColor(59, 82, 139));
    g.setColorStopAt(0.5, QColor(33, 145, 140));
    g.setColorStopAt(0.75, QColor(94, 201, 98));
    g.setColorStopAt(1.0, QColor(253, 231, 37));
    g.setNanHandling(QCPColorGradient::nhTransparent);
    return g;
}

QCPColorGradient divergingGradient() {
    QCPColorGradient g;
    g.clearColorStops();
    // ColorBrewer RdBu, reversed: negative blue, positive red.
    g.setColorStopAt(0.0, QColor(5, 48, 97));
    g.setColorStopAt(0.25, QColor(67, 147, 195));
    g.setColorStopAt(0.5, QColor(247, 247, 247));
    g.setColorStopAt(0.75, QColor(214, 96, 77));
    g.setColorStopAt(1.0, QColor(103, 0, 31));
    g.setNanHandling(QCPColorGradient::nhTransparent);
    return g;
}

QCPColorGradient saturationGradient() {
    QCPColorGradient g;
    g.clearColorStops();
    g.setColorInterpolation(QCPColorGradient::ciRGB);
    g.setColorStopAt(0.0, QColor(33, 102, 172));
    g.setColorStopAt(0.33, QColor(33, 102, 172));
    g.setColorStopAt(0.34, QColor(225, 225, 225));
    g.setColorStopAt(0.66, QColor(225, 225, 225));
    g.setColorStopAt(0.67, QColor(178, 24, 43));
    g.setColorStopAt(1.0, QColor(178, 24, 43));
    g.setLevelCount(3);
    g.setNanHandling(QCPColorGradient::nhTransparent);
    return g;
}

QCPColorGradient makeGradient(Gradient which, bool signedValues) {
    switch (which) {
        case Gradient::Auto:
            return signedValues ? divergingGradient() : viridisGradient();
        case Gradient::Viridis:
            return viridisGradient();
        case Gradient::Diverging:
            return divergingGradient();
        case Gradient::Grayscale: {
            QCPColorGradient g(QCPColorGradient::gpGrayscale);
            g.setNanHandling(QCPColorGradient::nhTransparent);
            return g;
        }
        case Gradient::Thermal: {
            QCPColorGradient g(QCPColorGradient::gpThermal);
            g.setNanHandling(QCPColorGradient::nhTransparent);
            return g;
        }
    }
    return viridisGradient();
}

void stylePlot(QCustomPlot* plot) {
    const QPalette pal = plot->palette();
    const QColor fg = pal.color(QPalette::WindowText);
    const QColor bg = pal.color(QPalette::Base);
    QColor grid = fg;
    grid.setAlpha(40);
    plot->setBackground(bg);
    plot->setNoAntialiasingOnDrag(true);
    for (QCPAxisRect* rect : plot->axisRects()) {
        for (QCPAxis* axis : rect->axes()) {
            axis->setBasePen(QPen(fg));
            axis->setTickPen(QPen(fg));
            axis->setSubTickPen(QPen(fg));
            axis->setTickLabelColor(fg);
            axis->setLabelColor(fg);
            axis->grid()->setPen(QPen(grid, 0, Qt::DotLine));
        }
    }
}

// The legend in its own row under the axes, laid out in columns, so it never covers data.
void legendBelow(QCustomPlot* plot) {
    plot->legend->setVisible(true);
    plot->legend->setFont(QFont(plot->font().family(), plot->font().pointSize() - 1));
    plot->legend->setBrush(Qt::NoBrush);
    plot->legend->setBorderPen(Qt::NoPen);
    plot->legend->setTextColor(plot->palette().color(QPalette::WindowText));
    plot->legend->setFillOrder(QCPLegend::foColumnsFirst);
    plot->legend->setMargins(QMargins(2, 0, 2, 0));
    auto* rect = plot->axisRect();
    rect->insetLayout()->take(plot->legend);
    plot->plotLayout()->addElement(plot->plotLayout()->rowCount(), 0, plot->legend);
    plot->plotLayout()->setRowStretchFactor(plot->plotLayout()->rowCount() - 1, 0.001);
    plot->plotLayout()->setRowSpacing(0);
}

QColor plotAccent(int index) {
    static const QColor colours[] = {QColor(31, 119, 180), QColor(255, 127, 14),
                                     QColor(44, 160, 44), QColor(148, 103, 189),
                                     QColor(140, 86, 75)};
    return colours[index % 5];
}

QColor clipColour() {
    return QColor(214, 39, 40);
}

QString num(double v) {
    if (std::isnan(v)) return QStringLiteral("–");
    return QString::number(v, 'g', 4);
}

}  // namespace qs::widgets
