// Histograms of one tensor: the float values with the quantization grid and the
// representable range drawn over them, the clipped mass (values the quantizer clamps) in red;
// and the error histogram in LSB.
#pragma once

#include <QWidget>
#include <memory>

#include "widgets/plots/tensor_plot_data.h"

class QCheckBox;
class QCustomPlot;
class QCPBars;
class QCPGraph;
class QCPItemStraightLine;
class QCPItemText;

namespace qs::widgets {

class HistogramView : public QWidget {
    Q_OBJECT
public:
    explicit HistogramView(QWidget* parent = nullptr);
    void setData(std::shared_ptr<const TensorPlotData> data);
    void redraw();

    QCustomPlot* valuePlot() const { return m_values; }
    QCustomPlot* errorPlot() const { return m_error; }
    // Inside and clipped bins of the value histogram; error bins.
    QCPBars* valueBars() const { return m_inside; }
    QCPBars* clippedBars() const { return m_clipped; }
    QCPBars* errorBars() const { return m_errorBars; }

protected:
    // A view hidden behind another tab redraws when it is shown (see setData).
    void showEvent(QShowEvent* event) override;

private:
    bool m_dirty = false;
    std::shared_ptr<const TensorPlotData> m_data;
    QCustomPlot* m_values;
    QCustomPlot* m_error;
    QCheckBox* m_log;
    QCPBars* m_inside;
    QCPBars* m_clipped;
    QCPGraph* m_grid;
    QCPItemStraightLine* m_reprLo;
    QCPItemStraightLine* m_reprHi;
    QCPItemText* m_clipText;
    QCPBars* m_errorBars;
};

}  // namespace qs::widgets
