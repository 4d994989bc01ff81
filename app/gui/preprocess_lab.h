// The preprocessing lab window (Tools › Preprocessing Lab): one photo through up to four
// preprocessing pipelines, side by side, with what each does to the model's top-k outputs and
// accumulated quantization error. The engine computes (engine/preprocess/lab.h) on a worker
// thread with progress and cancel; this class converts results to the panel's value types
// (widgets/preprocess) and hands a pipeline to the main window ("Use as input").
#pragma once

#include <QString>
#include <QStringList>
#include <QWidget>
#include <atomic>
#include <memory>
#include <optional>
#include <vector>

#include "app/gui/input_source.h"
#include "engine/preprocess/lab.h"
#include "engine/profiles/profile.h"
#include "widgets/preprocess/lab_data.h"

class QThread;
class QTimer;

namespace qs::widgets {
class LabPanel;
}

namespace qs::app {

class ModelDocument;

class PreprocessLab : public QWidget {
    Q_OBJECT
public:
    explicit PreprocessLab(QWidget* parent = nullptr);
    ~PreprocessLab() override;

    // A new model: editors rebuilt, default pipelines (the model's default pipeline, and the
    // same with OpenCV INTER_AREA), labels from its TFLite Metadata when it packs any.
    void setDocument(std::shared_ptr<const ModelDocument> document);
    // The integer arithmetic and float reference of the error analysis (the main window's,
    // which sets them again whenever they change there); recomputes when they differ.
    void setReference(engine::RoundingProfile profile,
                      std::shared_ptr<const model::Model> floatModel);
    engine::RoundingProfile profile() const { return m_profile; }
    const model::Model* floatModel() const { return m_floatModel.get(); }
    // Decodes `path` (engine decoder, Qt fallback) and recomputes; on failure the one-line
    // error is shown in the panel and returned in `error`.
    bool openImage(const QString& path, QString* error = nullptr);
    // One label per line (or "index label"); replaces the model's labels.
    bool openLabels(const QString& path, QString* error = nullptr);

    widgets::LabPanel* panel() const { return m_panel; }
    QString imagePath() const { return m_imagePath; }
    QString decoder() const { return m_decoder; }
    const QStringList& labels() const { return m_labels; }
    // Pipeline `i` as the engine reads it (parsed from the editor).
    Result<engine::preprocess::Pipeline> pipeline(int i) const;
    // The last results, one per pipeline (null while computing or after an error).
    const engine::preprocess::LabEvaluation* evaluation(int i) const;
    const widgets::LabPipelineResult* result(int i) const;
    const widgets::LabDifference& difference() const { return m_diff; }
    bool busy() const { return m_thread != nullptr; }
    void cancel();
    void waitForIdle();

signals:
    // Every pipeline has a result and the difference is shown.
    void evaluated();
    // "Use as input": the photo with pipeline `spec.pipeline`.
    void useAsInput(const qs::app::InputSpec& spec);
    void workerProgress(int done, int total, const QString& text);

private:
    struct Job;
    void schedule();
    void launch();
    void threadDone();
    void showResults();
    void updateDifference();
    void updateLabelsInfo();
    void chooseImage();
    void chooseLabels();
    void emitUseAsInput(int index);

    widgets::LabPanel* m_panel;
    QTimer* m_debounce;
    std::shared_ptr<const ModelDocument> m_document;
    std::shared_ptr<const model::Model> m_floatModel;
    engine::RoundingProfile m_profile = engine::RoundingProfile::Reference;
    std::shared_ptr<const engine::preprocess::Image> m_image;
    QString m_imagePath, m_decoder, m_imageInfo;
    QStringList m_labels;
    QString m_labelsSource;

    QThread* m_thread = nullptr;
    std::shared_ptr<Job> m_job;
    bool m_pending = false;
    std::vector<std::optional<engine::preprocess::LabEvaluation>> m_evals;
    std::vector<widgets::LabPipelineResult> m_results;
    widgets::LabDifference m_diff;
};

// The panel's spec as a `--preprocess` spec text (engine/preprocess parsePipeline).
QString pipelineSpecText(const widgets::LabPipelineSpec& spec);

}  // namespace qs::app
