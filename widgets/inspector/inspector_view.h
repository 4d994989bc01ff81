// The inspector: an op's type and options, its tensors with dtype, shape, scale and zero point,
// and per channel the requantization multiplier/shift and weight statistics, as a bar plot
// and a table.
#pragma once

#include <QWidget>

#include "widgets/inspector/inspector_data.h"

class QComboBox;
class QCustomPlot;
class QLabel;
class QTableWidget;

namespace qs::widgets {

class InspectorView : public QWidget {
    Q_OBJECT
public:
    explicit InspectorView(QWidget* parent = nullptr);

    void setData(const InspectorData& data);
    void clear();
    const InspectorData& data() const { return m_data; }
    QLabel* summary() const { return m_summary; }
    QTableWidget* channelTable() const { return m_channels; }
    QCustomPlot* plot() const { return m_plot; }

private:
    void replot();

    InspectorData m_data;
    QLabel* m_summary;
    QComboBox* m_series;
    QCustomPlot* m_plot;
    QTableWidget* m_channels;
    QWidget* m_channelBox;
};

}  // namespace qs::widgets
