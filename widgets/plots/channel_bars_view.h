// Per-channel bars of one tensor: the error metric per channel; the float range per channel
// against the representable range [(qmin - zp) s, (qmax - zp) s]; for the producing op's
// weights, the scale and zero point per channel and the weight min/max per channel, so an
// outlier channel that stretched a scale stands out.
#pragma once

#include <QWidget>
#include <memory>

#include "widgets/plots/tensor_plot_data.h"

class QCustomPlot;
class QCPBars;
class QCPFinancial;
class QCPGraph;

namespace qs::widgets {

class ChannelBarsView : public QWidget {
    Q_OBJECT
public:
    explicit ChannelBarsView(QWidget* parent = nullptr);
    void setData(std::shared_ptr<const TensorPlotData> data);
    void redraw();

    QCustomPlot* metricPlot() const { return m_metric; }
    QCustomPlot* rangePlot() const { return m_range; }
    QCustomPlot* weightScalePlot() const { return m_weightScale; }
    QCustomPlot* weightRangePlot() const { return m_weightRange; }
    QCPBars* metricBars() const { return m_metricBars; }

protected:
    // A view hidden behind another tab redraws when it is shown (see setData).
    void showEvent(QShowEvent* event) override;

private:
    bool m_dirty = false;
    std::shared_ptr<const TensorPlotData> m_data;
    QCustomPlot* m_metric;
    QCustomPlot* m_range;
    QCustomPlot* m_weightScale;
    QCustomPlot* m_weightRange;
    QCPBars* m_metricBars;
    QCPFinancial* m_floatRange;
    QCPGraph* m_reprMin;
    QCPGraph* m_reprMax;
    QCPBars* m_scaleBars;
    QCPGraph* m_zeroPoints;
    QCPFinancial* m_weightMinMax;
};

}  // namespace qs::widgets
