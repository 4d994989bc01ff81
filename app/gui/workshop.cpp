#include "app/gui/workshop.h"

#include <qcustomplot.h>
#include <QApplication>
#include <QPalette>
#include <QWidget>

#include <algorithm>

#include "widgets/plots/plot_style.h"

namespace qs::app {

namespace {

struct Saved {
    bool valid = false;
    QFont font;
    QPalette palette;
};
Saved& saved() {
    static Saved s;
    return s;
}
bool g_active = false;

// Black on white with saturated accents: readable on a projector in a lit room.
QPalette highContrastPalette() {
    QPalette p;
    const QColor white(255, 255, 255), black(0, 0, 0);
    for (auto group : {QPalette::Active, QPalette::Inactive}) {
        p.setColor(group, QPalette::Window, white);
        p.setColor(group, QPalette::WindowText, black);
        p.setColor(group, QPalette::Base, white);
        p.setColor(group, QPalette::AlternateBase, QColor(235, 235, 235));
        p.setColor(group, QPalette::Text, black);
        p.setColor(group, QPalette::Button, QColor(225, 225, 225));
        p.setColor(group, QPalette::ButtonText, black);
        p.setColor(group, QPalette::BrightText, QColor(200, 0, 0));
        p.setColor(group, QPalette::Highlight, QColor(0, 60, 170));
        p.setColor(group, QPalette::HighlightedText, white);
        p.setColor(group, QPalette::ToolTipBase, QColor(255, 255, 210));
        p.setColor(group, QPalette::ToolTipText, black);
        p.setColor(group, QPalette::Link, QColor(0, 0, 200));
        p.setColor(group, QPalette::PlaceholderText, QColor(80, 80, 80));
        p.setColor(group, QPalette::Mid, QColor(110, 110, 110));
        p.setColor(group, QPalette::Dark, QColor(60, 60, 60));
        p.setColor(group, QPalette::Shadow, black);
    }
    p.setColor(QPalette::Disabled, QPalette::WindowText, QColor(100, 100, 100));
    p.setColor(QPalette::Disabled, QPalette::Text, QColor(100, 100, 100));
    p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(100, 100, 100));
    return p;
}

}  // namespace

void applyWorkshopStyle(bool on) {
    Saved& s = saved();
    if (!s.valid) {
        s.font = QApplication::font();
        s.palette = QApplication::palette();
        s.valid = true;
    }
    if (on == g_active) return;
    g_active = on;
    widgets::setPresentationMode(on);
    if (on) {
        QFont f = s.font;
        if (f.pointSizeF() > 0)
            f.setPointSizeF(std::max(f.pointSizeF() * kWorkshopFontScale, kWorkshopMinPointSize));
        else
            f.setPixelSize(static_cast<int>(f.pixelSize() * kWorkshopFontScale));
        QApplication::setFont(f);
        QApplication::setPalette(highContrastPalette());
    } else {
        QApplication::setFont(s.font);
        QApplication::setPalette(s.palette);
    }
    // QApplication only tells existing widgets once exec() runs; tell them now as well (a
    // second notice while running only resolves the same font again).
    const QList<QWidget*> all = QApplication::allWidgets();
    for (QWidget* w : all) {
        QEvent font(QEvent::ApplicationFontChange), palette(QEvent::ApplicationPaletteChange);
        QCoreApplication::sendEvent(w, &font);
        QCoreApplication::sendEvent(w, &palette);
    }
    // QCustomPlot copies fonts into its axes at construction: give them the new one.
    for (QWidget* w : all) {
        if (auto* plot = qobject_cast<QCustomPlot*>(w)) {
            widgets::restylePlot(plot);
            plot->replot();
        }
    }
}

bool workshopStyleActive() {
    return g_active;
}

}  // namespace qs::app
