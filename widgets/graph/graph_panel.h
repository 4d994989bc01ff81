// The graph view with its bar: colour metric chooser, legend (colour scale of the metric) and
// a threshold slider that outlines every node worse than the threshold.
#pragma once

#include <QWidget>

class QComboBox;
class QLabel;
class QSlider;

namespace qs::widgets {

class GraphView;
class LegendBar;

class GraphPanel : public QWidget {
    Q_OBJECT
public:
    explicit GraphPanel(QWidget* parent = nullptr);

    GraphView* view() const { return m_view; }
    void setMetricNames(const QStringList& names, const QString& current);
    QString metric() const;
    // Re-reads the view's metric scale (call after setGraph/updateGraph).
    void refreshLegend();
    // Threshold as badness in [0, 1] (0 = the metric's good end).
    void setThreshold(double badness);
    double threshold() const;
    QLabel* statusLabel() const { return m_flagged; }

signals:
    void metricChanged(const QString& name);

private:
    void thresholdMoved(int position);

    GraphView* m_view;
    QComboBox* m_metric;
    LegendBar* m_legend;
    QSlider* m_threshold;
    QLabel* m_thresholdValue;
    QLabel* m_flagged;
};

// The colour scale of the current metric, good on the left, with the threshold marked.
class LegendBar : public QWidget {
    Q_OBJECT
public:
    explicit LegendBar(QWidget* parent = nullptr);
    void setScale(const QString& good, const QString& bad, bool valid);
    void setThreshold(double badness);
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    QString m_good, m_bad;
    bool m_valid = false;
    double m_threshold = 1.0;
};

}  // namespace qs::widgets
