#include "widgets/graph/graph_panel.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLinearGradient>
#include <QPainter>
#include <QSlider>
#include <QVBoxLayout>
#include <cmath>

#include "widgets/graph/color_scale.h"
#include "widgets/graph/graph_view.h"

namespace qs::widgets {

namespace {

QString formatValue(double v, const QString& unit) {
    QString s = QString::number(v, 'g', 3);
    return unit.isEmpty() ? s : s + QLatin1Char(' ') + unit;
}

}  // namespace

LegendBar::LegendBar(QWidget* parent) : QWidget(parent) {
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
}

void LegendBar::setScale(const QString& good, const QString& bad, bool valid) {
    m_good = good;
    m_bad = bad;
    m_valid = valid;
    update();
}

void LegendBar::setThreshold(double badness) {
    m_threshold = badness;
    update();
}

QSize LegendBar::sizeHint() const {
    return {260, fontMetrics().height() + 8};
}
QSize LegendBar::minimumSizeHint() const {
    return {140, fontMetrics().height() + 8};
}

void LegendBar::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const QRectF bar = QRectF(rect()).adjusted(1, 2, -1, -2);
    if (!m_valid) {
        p.setPen(palette().color(QPalette::Disabled, QPalette::Text));
        p.drawText(bar, Qt::AlignVCenter | Qt::AlignLeft, tr("no metric values yet"));
        return;
    }
    QLinearGradient g(bar.topLeft(), bar.topRight());
    for (int i = 0; i <= 10; ++i) g.setColorAt(i / 10.0, badnessColour(i / 10.0, palette()));
    p.setPen(palette().color(QPalette::Mid));
    p.setBrush(g);
    p.drawRoundedRect(bar, 3, 3);
    const QColor text = textColourOn(badnessColour(0.5, palette()));
    p.setPen(text);
    p.drawText(bar.adjusted(6, 0, -6, 0), Qt::AlignVCenter | Qt::AlignLeft, m_good);
    p.drawText(bar.adjusted(6, 0, -6, 0), Qt::AlignVCenter | Qt::AlignRight, m_bad);
    // Threshold marker.
    const double x = bar.left() + bar.width() * std::clamp(m_threshold, 0.0, 1.0);
    p.setPen(QPen(palette().color(QPalette::Text), 2));
    p.drawLine(QPointF(x, bar.top() - 1), QPointF(x, bar.bottom() + 1));
}

GraphPanel::GraphPanel(QWidget* parent)
    : QWidget(parent),
      m_view(new GraphView(this)),
      m_metric(new QComboBox(this)),
      m_legend(new LegendBar(this)),
      m_threshold(new QSlider(Qt::Horizontal, this)),
      m_thresholdValue(new QLabel(this)),
      m_flagged(new QLabel(this)) {
    m_metric->setToolTip(tr("Metric that colours the nodes"));
    m_metric->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    connect(m_metric, &QComboBox::currentTextChanged, this, [this](const QString& name) {
        if (!name.isEmpty()) emit metricChanged(name);
    });
    m_threshold->setRange(0, 100);
    m_threshold->setValue(100);
    m_threshold->setToolTip(tr("Outline nodes worse than this value"));
    m_threshold->setMaximumWidth(160);
    m_thresholdValue->setMinimumWidth(
        fontMetrics().horizontalAdvance(QStringLiteral("-0.000 LSB")));
    connect(m_threshold, &QSlider::valueChanged, this, &GraphPanel::thresholdMoved);

    auto* bar = new QHBoxLayout;
    bar->setContentsMargins(4, 2, 4, 2);
    bar->addWidget(new QLabel(tr("Colour:"), this));
    bar->addWidget(m_metric);
    bar->addWidget(m_legend, 1);
    bar->addWidget(new QLabel(tr("Threshold:"), this));
    bar->addWidget(m_threshold);
    bar->addWidget(m_thresholdValue);
    bar->addWidget(m_flagged);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addLayout(bar);
    layout->addWidget(m_view, 1);
    refreshLegend();
}

void GraphPanel::setMetricNames(const QStringList& names, const QString& current) {
    QSignalBlocker block(m_metric);
    m_metric->clear();
    m_metric->addItems(names);
    const int i = m_metric->findText(current);
    m_metric->setCurrentIndex(i >= 0 ? i : 0);
    m_metric->setEnabled(names.size() > 1);
}

QString GraphPanel::metric() const {
    return m_metric->currentText();
}

void GraphPanel::setThreshold(double badness) {
    m_threshold->setValue(static_cast<int>(std::lround(std::clamp(badness, 0.0, 1.0) * 100)));
    thresholdMoved(m_threshold->value());
}

double GraphPanel::threshold() const {
    return m_threshold->value() / 100.0;
}

void GraphPanel::thresholdMoved(int position) {
    const double t = position / 100.0;
    m_view->setThreshold(t);
    m_legend->setThreshold(t);
    refreshLegend();
}

void GraphPanel::refreshLegend() {
    const MetricScale& s = m_view->graph().metric;
    m_legend->setScale(formatValue(s.good, s.unit), formatValue(s.bad, s.unit), s.valid());
    m_threshold->setEnabled(s.valid());
    if (!s.valid()) {
        m_thresholdValue->clear();
        m_flagged->clear();
        return;
    }
    const double t = threshold();
    m_thresholdValue->setText(t >= 1.0 ? tr("off")
                                       : formatValue(s.good + t * (s.bad - s.good), s.unit));
    const int flagged = m_view->nodesPastThreshold();
    m_flagged->setText(t >= 1.0 ? QString() : tr("%n op(s) worse", nullptr, flagged));
}

}  // namespace qs::widgets
