// The tensor views of the selected tensor, as tabs: heatmaps, per-channel bars, histograms,
// and the float-vs-dequantized scatter beside the saturation map.
#pragma once

#include <QWidget>
#include <memory>

#include "widgets/plots/tensor_plot_data.h"

class QLabel;
class QTabWidget;

namespace qs::widgets {

class ChannelBarsView;
class HeatmapView;
class HistogramView;
class ScatterView;

class TensorViewsPanel : public QWidget {
    Q_OBJECT
public:
    explicit TensorViewsPanel(QWidget* parent = nullptr);

    // Hands the data to every view; the visible ones redraw now, the others when shown.
    // Returns the milliseconds it took.
    double setData(std::shared_ptr<const TensorPlotData> data);
    // Redraws every view, shown or not (exports, timing).
    void redrawAll();
    // No tensor: `why` says so (not run yet, not compared, ...).
    void showMessage(const QString& why);
    std::shared_ptr<const TensorPlotData> data() const { return m_data; }

    QTabWidget* tabs() const { return m_tabs; }
    HeatmapView* heatmap() const { return m_heatmap; }
    ChannelBarsView* channelBars() const { return m_bars; }
    HistogramView* histograms() const { return m_histograms; }
    ScatterView* scatter() const { return m_scatter; }
    HeatmapView* saturation() const { return m_saturation; }
    QLabel* header() const { return m_header; }

private:
    std::shared_ptr<const TensorPlotData> m_data;
    QLabel* m_header;
    QTabWidget* m_tabs;
    HeatmapView* m_heatmap;
    ChannelBarsView* m_bars;
    HistogramView* m_histograms;
    ScatterView* m_scatter;
    HeatmapView* m_saturation;
};

}  // namespace qs::widgets
