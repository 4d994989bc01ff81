// The quantization playground's state and arithmetic: which values (a seeded distribution, the
// selected tensor's float reference values, or the selected op's dequantized weights), the
// grids (one, or one per channel), and the frame the PlaygroundView draws, computed with
// engine/playground. The view's signals edit the state; every edit recomputes the frame.
#pragma once

#include <QObject>
#include <QString>
#include <memory>
#include <vector>

#include "engine/playground/quant_playground.h"
#include "widgets/playground/playground_view.h"

namespace qs::app {

class ModelDocument;
struct RunOutcome;

class PlaygroundController : public QObject {
    Q_OBJECT
public:
    // Source indices: the distributions in engine order, then the two tensor sources.
    static constexpr int kTensorSource =
        static_cast<int>(engine::playground::kAllDistributions.size());
    static constexpr int kWeightsSource = kTensorSource + 1;
    // Values drawn from a distribution (per-channel: 16 channels of 4096).
    static constexpr int64_t kDistributionCount = 100000;
    static constexpr int kDistributionChannels = 16;

    explicit PlaygroundController(widgets::PlaygroundView* view, QObject* parent = nullptr);

    // What the main window has selected; a tensor source reloads from it.
    void setSelection(std::shared_ptr<const ModelDocument> document, int subgraph, int op,
                      int tensor, std::shared_ptr<const RunOutcome> outcome);

    // Whether the panel is on screen (its dock shown and its tab raised). While inactive a new
    // selection only marks a tensor source stale; it reloads when the panel becomes active.
    void setActive(bool active);

    // The same edits the view's controls make (lessons and tests use them). Each returns false
    // and leaves a one-line error() when it cannot apply.
    bool setSource(int index);
    void setDType(model::DType dtype);
    void setSymmetric(bool symmetric);
    void setPerChannel(bool perChannel);
    void setChannel(int channel);
    void setSeed(quint64 seed);
    bool setScale(double scale);
    bool setZeroPoint(int64_t zeroPoint);
    bool setRange(double lo, double hi);
    bool calibrate(engine::playground::Calibration c);
    // Back to the grids stored in the model file (tensor sources).
    bool useFileGrids();

    int source() const { return m_source; }
    const std::vector<float>& values() const { return m_values; }
    const engine::playground::Evaluation& evaluation() const { return m_eval; }
    const std::vector<engine::playground::Grid>& grids() const { return m_grids; }
    const engine::playground::Grid& shownGrid() const;
    bool perChannel() const { return m_perChannel; }
    int channel() const { return m_channel; }
    const QString& error() const { return m_error; }
    const widgets::PlaygroundFrame& frame() const { return m_frame; }
    // The other granularity's total SQNR with min/max grids (sources with channels).
    double otherSqnrDb() const { return m_frame.otherSqnrDb; }

signals:
    void updated();

private:
    bool loadValues();
    bool defaultGrids();
    void recompute(bool refitView);
    bool hasChannels() const;
    QVector<bool> sourceEnabled() const;
    int channelCount() const;

    widgets::PlaygroundView* m_view;
    std::shared_ptr<const ModelDocument> m_document;
    std::shared_ptr<const RunOutcome> m_outcome;
    int m_subgraph = 0, m_op = -1, m_tensor = -1;

    // A tensor source whose selection changed while the panel was hidden reloads when shown.
    bool m_stale = false;
    bool m_active = true;
    int m_source = 0;
    quint64 m_seed = 0;
    model::DType m_dtype = model::DType::Int8;
    bool m_symmetric = false;
    bool m_perChannel = false;
    int m_channel = 0;
    std::vector<float> m_values;
    std::vector<int32_t> m_shape;
    int m_axis = -1;
    QString m_description;
    std::vector<engine::playground::Grid> m_grids;
    std::vector<engine::playground::Grid> m_fileGrids;  // tensor sources: the model's grids
    engine::playground::Evaluation m_eval;
    // The other granularity with min/max grids, recomputed when the values, dtype, symmetry or
    // granularity change (not while dragging).
    engine::playground::Evaluation m_other;
    bool m_otherDirty = true;
    double m_viewLo = -1, m_viewHi = 1;
    QString m_error;
    widgets::PlaygroundFrame m_frame;
};

}  // namespace qs::app
