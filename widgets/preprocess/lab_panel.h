// The preprocessing lab's preview panel: up to four pipelines side by side (PipelineColumn)
// with synced zoom and pan, and the difference image of two chosen pipelines with its
// statistics. The app supplies every number (LabPipelineResult, LabDifference) and reacts to
// the signals; this panel only edits specs and draws.
#pragma once

#include <QWidget>

#include "widgets/preprocess/lab_data.h"

class QComboBox;
class QHBoxLayout;
class QLabel;
class QProgressBar;
class QPushButton;

namespace qs::widgets {

class PipelineColumn;
class PixelImageView;
class ZoomLink;

class LabPanel : public QWidget {
    Q_OBJECT
public:
    static constexpr int kMaxPipelines = 4;

    explicit LabPanel(QWidget* parent = nullptr);

    // Rebuilds the editors (a new model): choices, then the pipelines.
    void setChoices(const LabChoices& choices);
    void setPipelines(const QVector<LabPipelineSpec>& specs);
    QVector<LabPipelineSpec> pipelines() const;
    int pipelineCount() const { return static_cast<int>(m_columns.size()); }
    PipelineColumn* column(int i) const { return m_columns.value(i); }
    // Appends a pipeline (a copy of the last one, or `spec`); false at kMaxPipelines.
    bool addPipeline();
    bool addPipeline(const LabPipelineSpec& spec);
    void removePipeline(int index);

    void setImageInfo(const QString& text);
    void setLabelsInfo(const QString& text);
    void setResult(int index, const LabPipelineResult& result);
    void setPending();
    void setDifference(const LabDifference& diff);
    void setProgress(int done, int total, const QString& text);
    void setBusy(bool busy);

    // The compared pair and space ("pixels" or "normalized").
    int compareA() const;
    int compareB() const;
    QString compareSpace() const;
    void setCompare(int a, int b);

    ZoomLink* zoomLink() const { return m_link; }
    PixelImageView* differenceView() const { return m_diffView; }
    QLabel* differenceLabel() const { return m_diffInfo; }
    QPushButton* cancelButton() const { return m_cancel; }
    QComboBox* spaceBox() const { return m_space; }
    QLabel* hoverLabel() const { return m_hover; }
    QLabel* labelsLabel() const { return m_labels; }

signals:
    void pipelinesChanged();
    void compareChanged();
    void openImageRequested();
    void openLabelsRequested();
    void useAsInput(int index);
    void cancelRequested();

private:
    void rebuildCompareBoxes();
    void showHover(QPoint pixel);
    PipelineColumn* makeColumn(const LabPipelineSpec& spec);

    LabChoices m_choices;
    ZoomLink* m_link;
    QLabel* m_image;
    QLabel* m_labels;
    QPushButton* m_add;
    QProgressBar* m_progress;
    QPushButton* m_cancel;
    QHBoxLayout* m_row;
    QVector<PipelineColumn*> m_columns;
    QComboBox* m_a;
    QComboBox* m_b;
    QComboBox* m_space;
    PixelImageView* m_diffView;
    QLabel* m_scale;
    QLabel* m_diffInfo;
    QLabel* m_hover;
    LabDifference m_diff;
};

}  // namespace qs::widgets
