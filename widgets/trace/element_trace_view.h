// The element trace panel: one output element's integer arithmetic. Spin boxes pick the
// element of the selected op output (or a click in a heatmap does); above, the inputs
// summary (terms with zero points removed, accumulator, bias); below, the steps table with
// one column per rounding profile and one row per step, the step where the profiles part
// highlighted, then the final output per profile beside the float value. Copy puts the
// trace on the clipboard as text; Export writes its JSON.
#pragma once

#include <QWidget>

#include "widgets/trace/trace_view_data.h"

class QHBoxLayout;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace qs::widgets {

class ElementTraceView : public QWidget {
    Q_OBJECT
public:
    explicit ElementTraceView(QWidget* parent = nullptr);

    // The tensor whose elements can be traced: one spin box per dimension of `shape`, set to
    // `element` (clamped). An empty shape disables the spin boxes.
    void setTarget(const QString& tensor, const QVector<int>& shape, const QVector<int>& element);
    QVector<int> element() const;
    // Shows a trace, or its error line.
    void setData(const TraceViewData& data);
    // No trace: one line why (unsupported op, nothing selected, ...).
    void showMessage(const QString& message);
    // Work in progress (the run that provides the op's inputs): progress and Cancel.
    void setBusy(const QString& what, int done, int total);
    void clearBusy();

    const TraceViewData& data() const { return m_data; }
    bool hasTrace() const { return m_hasTrace; }
    // Writes the JSON of the shown trace atomically.
    bool exportJson(const QString& path, QString* error) const;
    void copyText() const;

    QTableWidget* stepsTable() const { return m_steps; }
    QTableWidget* termsTable() const { return m_terms; }
    QTableWidget* commonTable() const { return m_common; }
    QLabel* titleLabel() const { return m_title; }
    QLabel* messageLabel() const { return m_message; }
    QLabel* verdictLabel() const { return m_verdict; }
    QPushButton* traceButton() const { return m_traceButton; }
    const QVector<QSpinBox*>& spinBoxes() const { return m_spins; }

    // Background of the parting row.
    static QColor partingColour();

signals:
    void traceRequested(const QVector<int>& element);
    void cancelRequested();

private:
    void exportDialog();
    void fillTerms();
    void fillSteps();

    TraceViewData m_data;
    bool m_hasTrace = false;
    QHBoxLayout* m_spinLayout;
    QVector<QSpinBox*> m_spins;
    QLabel* m_target;
    QPushButton* m_traceButton;
    QPushButton* m_copyButton;
    QPushButton* m_exportButton;
    QLabel* m_title;
    QLabel* m_message;
    QProgressBar* m_progress;
    QPushButton* m_cancel;
    QWidget* m_body;
    QLabel* m_termsLabel;
    QTableWidget* m_terms;
    QTableWidget* m_common;
    QTableWidget* m_steps;
    QLabel* m_verdict;
};

}  // namespace qs::widgets
