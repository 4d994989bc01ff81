// Heatmaps of one tensor (QCPColorMap): a quantity (float value, dequantized value, error,
// |error|, error in LSB, saturation) for one channel at a time (slider and spin box) or all
// channels tiled in a grid; tensor-wide or per-tile colour range; a diverging scale for signed
// quantities. Hovering shows the element's index, float, int, dequantized value and error.
#pragma once

#include <QWidget>
#include <memory>

#include "widgets/plots/tensor_plot_data.h"

class QCheckBox;
class QComboBox;
class QCPColorMap;
class QCPColorScale;
class QCustomPlot;
class QLabel;
class QMouseEvent;
class QSlider;
class QSpinBox;

namespace qs::widgets {

class HeatmapView : public QWidget {
    Q_OBJECT
public:
    // `saturationMap`: a view fixed to the saturation quantity (where values hit qmin/qmax).
    explicit HeatmapView(bool saturationMap = false, QWidget* parent = nullptr);

    void setData(std::shared_ptr<const TensorPlotData> data);
    void clear();

    void setQuantity(MapQuantity q);
    MapQuantity quantity() const { return m_quantity; }
    void setChannel(int channel);
    int channel() const { return m_channel; }
    void setTiled(bool tiled);
    bool tiled() const { return m_tiled; }
    void setPerTileRange(bool perTile);
    bool perTileRange() const { return m_perTile; }

    // The element under map cell (key, value) of the colour map: channel, row, col; false in
    // the gaps between tiles or outside.
    bool cellAt(int key, int value, int* channel, int* row, int* col) const;
    // The hover text of one element.
    QString describe(int channel, int row, int col) const;

    QCustomPlot* plot() const { return m_plot; }
    QCPColorMap* colorMap() const { return m_map; }
    QSlider* channelSlider() const { return m_slider; }
    QSpinBox* channelSpin() const { return m_spin; }
    QComboBox* quantityBox() const { return m_quantityBox; }
    QLabel* infoLabel() const { return m_info; }
    QString csv() const;

    // Rebuilds the map from the data and replots.
    void redraw();

signals:
    // A left click (no drag) on an element: its full tensor coordinates and flat index.
    void elementClicked(const QVector<int>& coordinates, qint64 index);

protected:
    // A view hidden behind another tab redraws when it is shown (see setData).
    void showEvent(QShowEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    bool m_dirty = false;
    void hover(QMouseEvent* event);
    void click(QMouseEvent* event);
    QPoint m_pressPos;
    void updateControls();
    void applyGradient(bool signedValues);
    void fitSquareCells();
    QString summary() const;

    std::shared_ptr<const TensorPlotData> m_data;
    bool m_saturation;
    MapQuantity m_quantity = MapQuantity::Error;
    int m_channel = 0;
    bool m_tiled = false;
    bool m_perTile = false;
    // Tiled layout of the current map.
    int m_tilesX = 1, m_gap = 1;

    QCustomPlot* m_plot;
    QCPColorMap* m_map;
    QCPColorScale* m_scale;
    QComboBox* m_quantityBox = nullptr;
    QComboBox* m_gradientBox;
    QCheckBox* m_tiledBox;
    QCheckBox* m_perTileBox;
    QSlider* m_slider;
    QSpinBox* m_spin;
    QLabel* m_channelLabel;
    QLabel* m_info;
};

}  // namespace qs::widgets
