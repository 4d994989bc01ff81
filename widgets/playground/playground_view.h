// The quantization playground panel: a histogram of float values on a value axis with the
// quantization grid over it (grid lines when they are few enough to see, else a band), the
// clipped mass in red, drag handles for the representable range's ends and the grid itself
// (dragging inside the band moves the zero point), spin boxes for scale, zero point and range,
// dtype / symmetric / per-channel choices, calibration buttons and the live error metrics.
//
// The view draws a PlaygroundFrame and reports what the user asks for as signals; the app's
// controller computes the frame with engine/playground (this library computes nothing).
#pragma once

#include <QString>
#include <QStringList>
#include <QVector>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QCustomPlot;
class QCPBars;
class QCPGraph;
class QCPItemRect;
class QCPItemStraightLine;
class QCPItemText;
class QDoubleSpinBox;
class QLabel;
class QMouseEvent;
class QPushButton;
class QSpinBox;

namespace qs::widgets {

enum class PlayDType { Int8, UInt8, Int16 };
enum class PlayCalibration { MinMax, Percentile, MseOptimal };

// The error metrics of one quantization (engine/analysis/metrics.h's values).
struct PlayMetrics {
    double rmse = 0, rmseLsb = 0, maxAbs = 0, sqnrDb = 0, clippedPct = 0;
    qint64 clipped = 0, count = 0;
};

struct PlaygroundFrame {
    QString sourceDescription;  // where the values come from, one line
    // The controls' state.
    int source = 0;
    QStringList sources;
    QVector<bool> sourceEnabled;
    PlayDType dtype = PlayDType::Int8;
    bool symmetric = false;
    bool perChannel = false;
    bool hasChannels = false;
    int channel = 0, channels = 1;
    quint64 seed = 0;
    bool seeded = true;  // the seed applies (a distribution)
    // The grid drawn (the shown channel's when per-channel).
    double scale = 1;
    qint64 zeroPoint = 0, qmin = -128, qmax = 127;
    double representableMin = 0, representableMax = 0, clipLow = 0, clipHigh = 0;
    // The histogram of the shown values over the view [viewLo, viewHi].
    double viewLo = -1, viewHi = 1;
    double binLo = 0, binWidth = 1;
    QVector<double> inside, clipped;
    bool gridAligned = false;
    // Metrics of the whole tensor and of the shown channel (when it has channels).
    PlayMetrics total, channelMetrics;
    // Per channel SQNR (dB) with the current grids and with the other granularity calibrated
    // by min/max; empty without channels.
    QVector<double> channelSqnr, otherChannelSqnr;
    QString otherLabel;      // "one shared scale (min/max)" or "one scale per channel (min/max)"
    double otherSqnrDb = 0;  // the other granularity's total SQNR
    QString error;           // one line when the frame could not be computed
};

class PlaygroundView : public QWidget {
    Q_OBJECT
public:
    explicit PlaygroundView(QWidget* parent = nullptr);

    void setFrame(const PlaygroundFrame& frame);
    const PlaygroundFrame& frame() const { return m_frame; }

    QCustomPlot* valuePlot() const { return m_plot; }
    QCustomPlot* channelPlot() const { return m_channelPlot; }
    QLabel* metricsLabel() const { return m_metrics; }
    // Grid lines shown (few levels in view) or the band only.
    bool gridLinesShown() const;
    // Pixel x of a value on the value axis (tests drag with it).
    double pixelForValue(double x) const;

signals:
    void sourceChosen(int index);
    void dtypeChosen(qs::widgets::PlayDType dtype);
    void symmetricChosen(bool symmetric);
    void perChannelChosen(bool perChannel);
    void channelChosen(int channel);
    void seedChosen(quint64 seed);
    void scaleEdited(double scale);
    void zeroPointEdited(qint64 zeroPoint);
    // The representable range's ends set by dragging or the spin boxes.
    void rangeEdited(double lo, double hi);
    void calibrationRequested(qs::widgets::PlayCalibration calibration);
    // A drag ended: the controller may refit the view.
    void dragFinished();

private:
    enum class Drag { None, Low, High, Band };
    void buildControls();
    void redraw();
    void redrawChannels();
    void drawGridLines();
    void updateControls();
    void mousePressed(QMouseEvent* event);
    void mouseMoved(QMouseEvent* event);
    void mouseReleased(QMouseEvent* event);
    Drag hitTest(double px, double py) const;

    PlaygroundFrame m_frame;
    Drag m_drag = Drag::None;
    double m_dragStartX = 0;
    qint64 m_dragStartZp = 0;
    double m_lastViewLo = 0, m_lastViewHi = 0;  // the frame's view, to keep a user's zoom

    QCustomPlot* m_plot;
    QCustomPlot* m_channelPlot;
    QCPBars* m_inside;
    QCPBars* m_clippedBars;
    QCPGraph* m_gridLines;
    QCPItemRect* m_band;
    QCPItemStraightLine* m_lowHandle;
    QCPItemStraightLine* m_highHandle;
    QCPItemStraightLine* m_zeroLine;
    QCPItemText* m_info;
    QCPBars* m_channelBars;
    QCPBars* m_otherBars;
    QCPItemRect* m_channelMark;

    QComboBox* m_source;
    QSpinBox* m_seed;
    QComboBox* m_dtype;
    QComboBox* m_symmetry;
    QComboBox* m_granularity;
    QSpinBox* m_channel;
    QDoubleSpinBox* m_scale;
    QSpinBox* m_zeroPoint;
    QDoubleSpinBox* m_lo;
    QDoubleSpinBox* m_hi;
    QPushButton* m_minMax;
    QPushButton* m_percentile;
    QPushButton* m_mse;
    QCheckBox* m_log;
    QLabel* m_metrics;
    QLabel* m_description;
};

}  // namespace qs::widgets
