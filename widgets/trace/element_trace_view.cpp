#include "widgets/trace/element_trace_view.h"

#include <QApplication>
#include <QClipboard>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QShortcut>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include "widgets/plots/plot_export.h"

namespace qs::widgets {

namespace {

QTableWidget* makeTable(QWidget* parent) {
    auto* t = new QTableWidget(parent);
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->setAlternatingRowColors(true);
    t->verticalHeader()->setVisible(false);
    t->verticalHeader()->setDefaultSectionSize(t->fontMetrics().height() + 6);
    t->horizontalHeader()->setHighlightSections(false);
    return t;
}

QTableWidgetItem* cell(const QString& text, Qt::Alignment align = Qt::AlignRight) {
    auto* item = new QTableWidgetItem(text);
    item->setTextAlignment(align | Qt::AlignVCenter);
    return item;
}

QString number(double v) {
    return QString::number(v, 'g', 9);
}

}  // namespace

QColor ElementTraceView::partingColour() {
    return QColor(255, 210, 110);
}

ElementTraceView::ElementTraceView(QWidget* parent)
    : QWidget(parent),
      m_spinLayout(new QHBoxLayout),
      m_target(new QLabel(tr("Element:"), this)),
      m_traceButton(new QPushButton(tr("Trace"), this)),
      m_copyButton(new QPushButton(tr("Copy as Text"), this)),
      m_exportButton(new QPushButton(tr("Export JSON…"), this)),
      m_title(new QLabel(this)),
      m_message(new QLabel(this)),
      m_progress(new QProgressBar(this)),
      m_cancel(new QPushButton(tr("Cancel"), this)),
      m_body(new QWidget(this)),
      m_termsLabel(new QLabel(this)),
      m_terms(makeTable(this)),
      m_common(makeTable(this)),
      m_steps(makeTable(this)),
      m_verdict(new QLabel(this)) {
    auto* bar = new QHBoxLayout;
    bar->addWidget(m_target);
    m_spinLayout->setSpacing(2);
    bar->addLayout(m_spinLayout);
    m_traceButton->setToolTip(tr("Trace this element of the selected op output (Enter)"));
    m_traceButton->setDefault(true);
    connect(m_traceButton, &QPushButton::clicked, this, [this] { emit traceRequested(element()); });
    bar->addWidget(m_traceButton);
    bar->addStretch(1);
    m_copyButton->setToolTip(tr("Copy the whole trace as aligned text (Ctrl+Shift+C)"));
    connect(m_copyButton, &QPushButton::clicked, this, &ElementTraceView::copyText);
    auto* copyShortcut = new QShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C), this);
    copyShortcut->setContext(Qt::WidgetWithChildrenShortcut);
    connect(copyShortcut, &QShortcut::activated, this, &ElementTraceView::copyText);
    m_exportButton->setToolTip(
        tr("Save the trace as JSON (the same as quantscope-cli trace --json)"));
    connect(m_exportButton, &QPushButton::clicked, this, &ElementTraceView::exportDialog);
    bar->addWidget(m_copyButton);
    bar->addWidget(m_exportButton);

    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_title->setWordWrap(true);
    m_message->setWordWrap(true);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_progress->setMaximumWidth(240);
    m_progress->hide();
    m_cancel->hide();
    connect(m_cancel, &QPushButton::clicked, this, &ElementTraceView::cancelRequested);
    auto* busy = new QHBoxLayout;
    busy->addWidget(m_message, 1);
    busy->addWidget(m_progress);
    busy->addWidget(m_cancel);

    // Inputs summary: terms on the left, the shared steps (accumulator, bias) on the right.
    m_termsLabel->setWordWrap(true);
    auto* termsBox = new QWidget(this);
    auto* termsLayout = new QVBoxLayout(termsBox);
    termsLayout->setContentsMargins(0, 0, 0, 0);
    termsLayout->addWidget(m_termsLabel);
    termsLayout->addWidget(m_terms, 1);
    m_common->setColumnCount(2);
    m_common->setHorizontalHeaderLabels({tr("Shared step"), tr("Value")});
    m_common->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    auto* inputs = new QSplitter(Qt::Horizontal, this);
    inputs->addWidget(termsBox);
    inputs->addWidget(m_common);
    inputs->setStretchFactor(0, 3);
    inputs->setStretchFactor(1, 2);
    inputs->setSizes({550, 450});

    m_steps->horizontalHeader()->setStretchLastSection(false);
    m_steps->setSelectionBehavior(QAbstractItemView::SelectItems);
    m_verdict->setWordWrap(true);
    m_verdict->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* stepsBox = new QWidget(this);
    auto* stepsLayout = new QVBoxLayout(stepsBox);
    stepsLayout->setContentsMargins(0, 0, 0, 0);
    stepsLayout->addWidget(m_steps, 1);
    stepsLayout->addWidget(m_verdict);

    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(inputs);
    split->addWidget(stepsBox);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 2);
    split->setSizes({300, 600});
    auto* bodyLayout = new QVBoxLayout(m_body);
    bodyLayout->setContentsMargins(0, 0, 0, 0);
    bodyLayout->addWidget(split);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(bar);
    layout->addWidget(m_title);
    layout->addLayout(busy);
    layout->addWidget(m_body, 1);
    setTarget(QString(), {}, {});
    showMessage(
        tr("Select a CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, ADD, SUB, MUL, MEAN or "
           "AVERAGE_POOL_2D output, then click an element in its error heatmap or enter "
           "its coordinates"));
}

void ElementTraceView::setTarget(const QString& tensor, const QVector<int>& shape,
                                 const QVector<int>& element) {
    if (m_spins.size() != shape.size()) {
        for (QSpinBox* s : m_spins) delete s;
        m_spins.clear();
        for (qsizetype d = 0; d < shape.size(); ++d) {
            auto* s = new QSpinBox(this);
            s->setKeyboardTracking(false);
            // Enter in a spin box traces (editingFinished also fires on focus loss).
            connect(s, &QAbstractSpinBox::editingFinished, this, [this, s] {
                if (s->hasFocus()) emit traceRequested(this->element());
            });
            m_spinLayout->addWidget(s);
            m_spins << s;
        }
    }
    for (qsizetype d = 0; d < shape.size(); ++d) {
        QSignalBlocker block(m_spins[d]);
        m_spins[d]->setRange(0, std::max(shape[d] - 1, 0));
        m_spins[d]->setValue(d < element.size() ? element[d] : 0);
        m_spins[d]->setToolTip(tr("Index along dimension %1 (size %2)").arg(d).arg(shape[d]));
    }
    m_target->setText(shape.isEmpty() ? tr("Element: (no traceable tensor selected)")
                                      : tr("Element of %1:").arg(tensor));
    m_target->setToolTip(tensor);
    m_traceButton->setEnabled(!shape.isEmpty());
}

QVector<int> ElementTraceView::element() const {
    QVector<int> out;
    for (const QSpinBox* s : m_spins) out << s->value();
    return out;
}

void ElementTraceView::showMessage(const QString& message) {
    m_data = TraceViewData{};
    m_hasTrace = false;
    m_title->clear();
    m_message->setText(message);
    m_body->hide();
    m_copyButton->setEnabled(false);
    m_exportButton->setEnabled(false);
}

void ElementTraceView::setBusy(const QString& what, int done, int total) {
    m_message->setText(what);
    m_progress->setRange(0, std::max(total, 0));
    m_progress->setValue(done);
    m_progress->show();
    m_cancel->show();
}

void ElementTraceView::clearBusy() {
    m_progress->hide();
    m_cancel->hide();
}

void ElementTraceView::setData(const TraceViewData& data) {
    if (!data.error.isEmpty()) {
        showMessage(data.error);
        m_title->setText(data.title.toHtmlEscaped());
        return;
    }
    m_data = data;
    m_hasTrace = true;
    m_title->setText(QStringLiteral("<b>%1</b>").arg(data.title.toHtmlEscaped()));
    m_title->setToolTip(data.tensorName);
    QString message = data.source;
    if (data.runOutput) message += tr(" — value in that run: %1").arg(*data.runOutput);
    m_message->setText(message);
    fillTerms();
    fillSteps();
    QString verdict = data.verdict.toHtmlEscaped();
    for (const QString& n : data.notes) verdict += QStringLiteral("<br>") + n.toHtmlEscaped();
    m_verdict->setText(verdict);
    m_body->show();
    m_copyButton->setEnabled(true);
    m_exportButton->setEnabled(true);
}

void ElementTraceView::fillTerms() {
    const TraceViewData& d = m_data;
    QString label = tr("Inputs: %1 term(s)").arg(d.termsTotal);
    if (d.terms.size() < d.termsTotal) label += tr(", the first %1 shown").arg(d.terms.size());
    if (!d.termsNote.isEmpty()) label += QStringLiteral("; ") + d.termsNote;
    m_termsLabel->setText(label);
    m_terms->clear();
    m_terms->setColumnCount(static_cast<int>(d.termHeaders.size()));
    m_terms->setHorizontalHeaderLabels(d.termHeaders);
    m_terms->setRowCount(static_cast<int>(d.terms.size()));
    for (int r = 0; r < d.terms.size(); ++r)
        for (int c = 0; c < d.terms[r].size(); ++c) {
            const bool coord = d.terms[r][c].startsWith(QLatin1Char('('));
            m_terms->setItem(r, c, cell(d.terms[r][c], coord ? Qt::AlignLeft : Qt::AlignRight));
        }
    m_terms->resizeColumnsToContents();

    m_common->setRowCount(static_cast<int>(d.common.size()) + 2);
    int r = 0;
    for (const TraceStepRow& s : d.common) {
        auto* name = cell(s.label, Qt::AlignLeft);
        name->setToolTip(s.formula);
        auto* value = cell(s.values.value(0));
        value->setToolTip(s.formula);
        m_common->setItem(r, 0, name);
        m_common->setItem(r, 1, value);
        ++r;
    }
    auto addReal = [&](const QString& name, double v, const QString& tip) {
        auto* n = cell(name, Qt::AlignLeft);
        n->setToolTip(tip);
        m_common->setItem(r, 0, n);
        m_common->setItem(r, 1, cell(number(v)));
        ++r;
    };
    addReal(tr("float reference"), d.floatValue,
            tr("The float computation: dequantized inputs in double, activation applied"));
    addReal(tr("on the output grid"), d.floatIdealQ, tr("float / s_out + zp_out, before rounding"));
}

void ElementTraceView::fillSteps() {
    const TraceViewData& d = m_data;
    const int columns = static_cast<int>(d.profiles.size()) + 1;
    m_steps->clear();
    m_steps->setColumnCount(columns);
    QStringList headers{tr("Step")};
    headers << d.profiles;
    m_steps->setHorizontalHeaderLabels(headers);
    for (int c = 1; c < columns; ++c)
        if (auto* h = m_steps->horizontalHeaderItem(c)) h->setToolTip(d.profileTips.value(c - 1));
    // Steps, then the final integer, its dequantized value and the float for comparison.
    const int rows = static_cast<int>(d.steps.size()) + 3;
    m_steps->setRowCount(rows);
    QFont bold = m_steps->font();
    bold.setBold(true);
    int r = 0;
    for (const TraceStepRow& s : d.steps) {
        auto* name =
            cell(s.parting ? tr("%1  ◀ profiles part").arg(s.label) : s.label, Qt::AlignLeft);
        name->setToolTip(s.formula);
        name->setData(Qt::UserRole, s.key);
        m_steps->setItem(r, 0, name);
        for (int c = 1; c < columns; ++c) {
            const QString v = s.values.value(c - 1);
            auto* item = cell(v);
            const QString formula = s.formulas.value(c - 1, s.formula);
            item->setToolTip(formula.isEmpty() ? v : v + QStringLiteral("\n") + formula);
            if (s.differs && !v.isEmpty()) item->setFont(bold);
            m_steps->setItem(r, c, item);
        }
        if (s.parting) {
            for (int c = 0; c < columns; ++c) {
                m_steps->item(r, c)->setBackground(partingColour());
                m_steps->item(r, c)->setForeground(QColor(Qt::black));
            }
            name->setFont(bold);
        }
        ++r;
    }
    const bool outputsDiffer = std::adjacent_find(d.outputs.begin(), d.outputs.end(),
                                                  std::not_equal_to<>()) != d.outputs.end();
    auto* out = cell(tr("output"), Qt::AlignLeft);
    out->setFont(bold);
    out->setToolTip(tr("The final integer each profile writes"));
    m_steps->setItem(r, 0, out);
    for (int c = 1; c < columns; ++c) {
        auto* item = cell(QString::number(d.outputs.value(c - 1)));
        item->setFont(bold);
        if (outputsDiffer) item->setBackground(partingColour()), item->setForeground(Qt::black);
        m_steps->setItem(r, c, item);
    }
    ++r;
    m_steps->setItem(r, 0, cell(tr("output dequantized"), Qt::AlignLeft));
    for (int c = 1; c < columns; ++c)
        m_steps->setItem(r, c, cell(number(d.outputReals.value(c - 1))));
    ++r;
    auto* ref = cell(tr("float reference"), Qt::AlignLeft);
    ref->setToolTip(
        tr("Dequantized inputs in double, activation applied (the same for every "
           "profile)"));
    m_steps->setItem(r, 0, ref);
    for (int c = 1; c < columns; ++c) m_steps->setItem(r, c, cell(number(d.floatValue)));
    m_steps->resizeColumnsToContents();
    // Parameter texts ("M = 2118754499, shift = -9 (...)") are long: they are cut to a readable
    // column and shown whole in the tooltip.
    // So the four profiles fit beside each other in a dock half a screen wide.
    const int digit = m_steps->fontMetrics().horizontalAdvance(QLatin1Char('0'));
    m_steps->setColumnWidth(0, std::min(m_steps->columnWidth(0), digit * 30));
    for (int c = 1; c < columns; ++c)
        m_steps->setColumnWidth(c, std::min(m_steps->columnWidth(c), digit * 17));
    m_steps->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Interactive);
}

void ElementTraceView::copyText() const {
    if (m_hasTrace) QApplication::clipboard()->setText(m_data.text);
}

bool ElementTraceView::exportJson(const QString& path, QString* error) const {
    if (!m_hasTrace) {
        if (error) *error = tr("no trace to export");
        return false;
    }
    // The plot export's atomic text writer (QSaveFile).
    const QString json = m_data.json;
    return savePlotCsv([json] { return json; }, path, error);
}

void ElementTraceView::exportDialog() {
    if (!m_hasTrace) return;
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export element trace"), QStringLiteral("trace.json"), tr("JSON (*.json)"));
    if (path.isEmpty()) return;
    QString error;
    if (!exportJson(path, &error))
        QMessageBox::warning(this, tr("Export failed"), tr("%1: %2").arg(path, error));
}

}  // namespace qs::widgets
