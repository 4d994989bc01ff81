// Float vs dequantized values as a density scatter (every element counted on a fine grid,
// log colour), with the identity line and the representable range: points off the diagonal
// are error, flat ends are clipping.
#pragma once

#include <QWidget>
#include <memory>

#include "widgets/plots/tensor_plot_data.h"

class QCustomPlot;
class QCPColorMap;
class QCPItemLine;
class QCPItemStraightLine;

namespace qs::widgets {

class ScatterView : public QWidget {
    Q_OBJECT
public:
    explicit ScatterView(QWidget* parent = nullptr);
    void setData(std::shared_ptr<const TensorPlotData> data);
    void redraw();
    QCustomPlot* plot() const { return m_plot; }
    QCPColorMap* density() const { return m_density; }

protected:
    // A view hidden behind another tab redraws when it is shown (see setData).
    void showEvent(QShowEvent* event) override;

private:
    bool m_dirty = false;
    std::shared_ptr<const TensorPlotData> m_data;
    QCustomPlot* m_plot;
    QCPColorMap* m_density;
    QCPItemLine* m_identity;
    QCPItemStraightLine* m_reprLo;
    QCPItemStraightLine* m_reprHi;
};

}  // namespace qs::widgets
