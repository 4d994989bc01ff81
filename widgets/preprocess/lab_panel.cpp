#include "widgets/preprocess/lab_panel.h"

#include <qcustomplot.h>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QShortcut>
#include <QVBoxLayout>
#include <cmath>

#include "widgets/plots/plot_style.h"
#include "widgets/preprocess/pipeline_column.h"
#include "widgets/preprocess/pixel_image_view.h"

namespace qs::widgets {

namespace {

// |a - b| per pixel -> viridis colours over [0, max]; a zero difference stays the darkest.
QImage colourise(const LabDifference& d) {
    QImage img(d.width, d.height, QImage::Format_RGB32);
    QCPColorGradient g = viridisGradient();  // color() is not const
    const QCPRange range(0, d.maxAbs > 0 ? d.maxAbs : 1);
    for (int y = 0; y < d.height; ++y) {
        auto* line = reinterpret_cast<QRgb*>(img.scanLine(y));
        for (int x = 0; x < d.width; ++x) line[x] = g.color(d.absMax[y * d.width + x], range);
    }
    return img;
}

// The colour bar with its ends labelled: 0 and the maximum |diff|.
QPixmap scaleBar(double max, const QPalette& palette) {
    QPixmap bar(220, 28);
    bar.fill(Qt::transparent);
    QPainter p(&bar);
    QCPColorGradient g = viridisGradient();  // color() is not const
    for (int x = 0; x < bar.width(); ++x) {
        p.setPen(QColor::fromRgb(g.color(x, QCPRange(0, bar.width() - 1))));
        p.drawLine(x, 0, x, 11);
    }
    p.setPen(palette.color(QPalette::WindowText));
    const QRect text(0, 12, bar.width(), 16);
    p.drawText(text, Qt::AlignLeft | Qt::AlignVCenter, QStringLiteral("0"));
    p.drawText(text, Qt::AlignRight | Qt::AlignVCenter, num(max));
    return bar;
}

}  // namespace

LabPanel::LabPanel(QWidget* parent)
    : QWidget(parent),
      m_link(new ZoomLink(this)),
      m_image(new QLabel(this)),
      m_labels(new QLabel(this)),
      m_add(new QPushButton(tr("Add pipeline"), this)),
      m_progress(new QProgressBar(this)),
      m_cancel(new QPushButton(tr("Cancel"), this)),
      m_row(new QHBoxLayout),
      m_a(new QComboBox(this)),
      m_b(new QComboBox(this)),
      m_space(new QComboBox(this)),
      m_diffView(new PixelImageView(this)),
      m_scale(new QLabel(this)),
      m_diffInfo(new QLabel(this)),
      m_hover(new QLabel(this)) {
    auto* openImage = new QPushButton(tr("Image…"), this);
    openImage->setToolTip(tr("Choose the photo to preprocess (Ctrl+O)"));
    auto* openLabels = new QPushButton(tr("Labels…"), this);
    openLabels->setToolTip(tr("Choose a labels file (one class per line) for the top-k lists"));
    m_add->setToolTip(
        tr("Add a pipeline (a copy of the last one), up to %1 (Ctrl+N)").arg(kMaxPipelines));
    m_image->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_labels->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_progress->setMaximumWidth(200);
    m_progress->hide();
    m_cancel->setToolTip(tr("Stop computing (Esc)"));
    m_cancel->hide();
    auto* top = new QHBoxLayout;
    top->addWidget(openImage);
    top->addWidget(m_image, 1);
    top->addWidget(openLabels);
    top->addWidget(m_labels);
    top->addWidget(m_add);
    top->addWidget(m_progress);
    top->addWidget(m_cancel);

    m_space->addItem(tr("resized pixels (0–255)"), QStringLiteral("pixels"));
    m_space->addItem(tr("model input (normalized)"), QStringLiteral("normalized"));
    m_space->setToolTip(
        tr("Compare the resized pixels, or the normalized values the model is "
           "fed (float, before input quantization)"));
    m_a->setToolTip(tr("Pipeline A of the difference A − B"));
    m_b->setToolTip(tr("Pipeline B of the difference A − B"));
    m_diffView->setLink(m_link);
    m_diffView->setPlaceholder(tr("Difference of two pipelines"));
    m_diffView->setToolTip(
        tr("max |A − B| over channels per pixel (viridis: dark 0, yellow the "
           "maximum); zoom and pan follow the previews"));
    m_diffInfo->setWordWrap(true);
    m_diffInfo->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_diffInfo->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    m_scale->setPixmap(scaleBar(1, palette()));
    auto* choose = new QHBoxLayout;
    choose->addWidget(new QLabel(tr("Difference"), this));
    choose->addWidget(m_a);
    choose->addWidget(new QLabel(QStringLiteral("−"), this));
    choose->addWidget(m_b);
    choose->addWidget(new QLabel(tr("in"), this));
    choose->addWidget(m_space);
    choose->addStretch();
    auto* diffText = new QVBoxLayout;
    diffText->addLayout(choose);
    diffText->addWidget(m_scale);
    diffText->addWidget(m_diffInfo, 1);
    m_hover->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_hover->setToolTip(tr("The pixel under the mouse in every preview (RGB shown)"));
    diffText->addWidget(m_hover);
    auto* diff = new QHBoxLayout;
    diff->addWidget(m_diffView, 1);
    diff->addLayout(diffText, 2);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addLayout(m_row, 3);
    layout->addLayout(diff, 1);

    connect(openImage, &QPushButton::clicked, this, &LabPanel::openImageRequested);
    connect(openLabels, &QPushButton::clicked, this, &LabPanel::openLabelsRequested);
    connect(m_add, &QPushButton::clicked, this, [this] { addPipeline(); });
    connect(m_cancel, &QPushButton::clicked, this, &LabPanel::cancelRequested);
    connect(m_diffView, &PixelImageView::hovered, this, &LabPanel::showHover);
    for (QComboBox* b : {m_a, m_b, m_space})
        connect(b, &QComboBox::currentIndexChanged, this, &LabPanel::compareChanged);
    auto* openShortcut = new QShortcut(QKeySequence::Open, this);
    connect(openShortcut, &QShortcut::activated, this, &LabPanel::openImageRequested);
    auto* addShortcut = new QShortcut(QKeySequence::New, this);
    connect(addShortcut, &QShortcut::activated, this, [this] { addPipeline(); });
    auto* cancel = new QShortcut(QKeySequence(Qt::Key_Escape), this);
    connect(cancel, &QShortcut::activated, this, &LabPanel::cancelRequested);
}

PipelineColumn* LabPanel::makeColumn(const LabPipelineSpec& spec) {
    auto* c = new PipelineColumn(m_choices, m_link, this);
    c->setSpec(spec);
    connect(c->view(), &PixelImageView::hovered, this, &LabPanel::showHover);
    connect(c, &PipelineColumn::specChanged, this, [this] {
        rebuildCompareBoxes();
        emit pipelinesChanged();
    });
    connect(c, &PipelineColumn::useAsInputClicked, this,
            [this, c] { emit useAsInput(static_cast<int>(m_columns.indexOf(c))); });
    connect(c, &PipelineColumn::removeClicked, this,
            [this, c] { removePipeline(static_cast<int>(m_columns.indexOf(c))); });
    return c;
}

void LabPanel::setChoices(const LabChoices& choices) {
    m_choices = choices;
    const auto specs = pipelines();
    qDeleteAll(m_columns);
    m_columns.clear();
    for (const auto& s : specs) {
        m_columns << makeColumn(s);
        m_row->addWidget(m_columns.back(), 1);
    }
    rebuildCompareBoxes();
}

void LabPanel::setPipelines(const QVector<LabPipelineSpec>& specs) {
    qDeleteAll(m_columns);
    m_columns.clear();
    for (const auto& s : specs.mid(0, kMaxPipelines)) {
        m_columns << makeColumn(s);
        m_row->addWidget(m_columns.back(), 1);
    }
    rebuildCompareBoxes();
    setCompare(0, 1);
    emit pipelinesChanged();
}

QVector<LabPipelineSpec> LabPanel::pipelines() const {
    QVector<LabPipelineSpec> out;
    for (const auto* c : m_columns) out << c->spec();
    return out;
}

bool LabPanel::addPipeline() {
    LabPipelineSpec spec = m_columns.isEmpty() ? LabPipelineSpec{} : m_columns.back()->spec();
    spec.name = tr("pipeline %1").arg(m_columns.size() + 1);
    return addPipeline(spec);
}

bool LabPanel::addPipeline(const LabPipelineSpec& spec) {
    if (m_columns.size() >= kMaxPipelines) return false;
    m_columns << makeColumn(spec);
    m_row->addWidget(m_columns.back(), 1);
    rebuildCompareBoxes();
    emit pipelinesChanged();
    return true;
}

void LabPanel::removePipeline(int index) {
    if (index < 0 || index >= m_columns.size() || m_columns.size() <= 1) return;
    delete m_columns.takeAt(index);
    rebuildCompareBoxes();
    emit pipelinesChanged();
}

void LabPanel::rebuildCompareBoxes() {
    const int a = m_a->currentIndex(), b = m_b->currentIndex();
    QSignalBlocker blockA(m_a), blockB(m_b);
    m_a->clear();
    m_b->clear();
    for (int i = 0; i < m_columns.size(); ++i) {
        const QString name = m_columns[i]->spec().name;
        const QString text =
            name.isEmpty() ? QString::number(i + 1) : QStringLiteral("%1: %2").arg(i + 1).arg(name);
        m_a->addItem(text);
        m_b->addItem(text);
    }
    const int n = static_cast<int>(m_columns.size());
    m_a->setCurrentIndex(a >= 0 && a < n ? a : 0);
    m_b->setCurrentIndex(b >= 0 && b < n ? b : std::min(1, n - 1));
    m_add->setEnabled(n < kMaxPipelines);
    for (auto* c : m_columns) c->setRemovable(n > 1);
}

int LabPanel::compareA() const {
    return m_a->currentIndex();
}
int LabPanel::compareB() const {
    return m_b->currentIndex();
}
QString LabPanel::compareSpace() const {
    return m_space->currentData().toString();
}

void LabPanel::setCompare(int a, int b) {
    {
        QSignalBlocker blockA(m_a);
        if (a < m_a->count()) m_a->setCurrentIndex(a);
    }
    if (b < m_b->count()) m_b->setCurrentIndex(b);
    emit compareChanged();
}

void LabPanel::setImageInfo(const QString& text) {
    m_image->setText(text);
}

void LabPanel::setLabelsInfo(const QString& text) {
    m_labels->setText(text);
}

void LabPanel::setResult(int index, const LabPipelineResult& result) {
    if (auto* c = m_columns.value(index)) c->setResult(result);
}

void LabPanel::setPending() {
    for (auto* c : m_columns) c->setPending(true);
}

void LabPanel::showHover(QPoint px) {
    if (px.x() < 0) {
        m_hover->clear();
        return;
    }
    QStringList parts{tr("pixel (%1, %2)").arg(px.x()).arg(px.y())};
    for (int i = 0; i < m_columns.size(); ++i) {
        const QImage& img = m_columns[i]->view()->image();
        if (!img.rect().contains(px)) continue;
        const QRgb c = img.pixel(px);
        parts
            << QStringLiteral("%1: %2,%3,%4").arg(i + 1).arg(qRed(c)).arg(qGreen(c)).arg(qBlue(c));
    }
    if (m_diff.ok() && px.x() < m_diff.width && px.y() < m_diff.height)
        parts << tr("|%1 − %2| %3")
                     .arg(m_diff.a + 1)
                     .arg(m_diff.b + 1)
                     .arg(num(m_diff.absMax[px.y() * m_diff.width + px.x()]));
    m_hover->setText(parts.join(QStringLiteral("   ")));
}

void LabPanel::setDifference(const LabDifference& d) {
    m_diff = d;
    if (!d.ok()) {
        m_diffView->setImage({});
        m_diffView->setPlaceholder(d.error.isEmpty() ? tr("No difference yet") : d.error);
        m_diffInfo->setText(d.error.toHtmlEscaped());
        return;
    }
    m_diffView->setImage(colourise(d));
    m_scale->setPixmap(scaleBar(d.maxAbs, palette()));
    QString channels;
    for (double c : d.channelMaxAbs) channels += (channels.isEmpty() ? "" : " / ") + num(c);
    const QString psnr = std::isinf(d.psnrDb) ? tr("∞ (identical)") : num(d.psnrDb) + tr(" dB");
    m_diffInfo->setText(
        tr("<b>%1 − %2</b> in %3<br>colour scale 0 … <b>%4</b> (max |diff|)<br>"
           "max |diff| per channel: %5<br>mean |diff| %6, RMSE %7<br>PSNR %8 (peak %9)")
            .arg(d.a + 1)
            .arg(d.b + 1)
            .arg(d.space == QLatin1String("pixels") ? tr("pixel units") : tr("normalized units"),
                 num(d.maxAbs), channels, num(d.meanAbs), num(d.rmse), psnr, num(d.peak)));
}

void LabPanel::setProgress(int done, int total, const QString& text) {
    m_progress->setRange(0, std::max(total, 1));
    m_progress->setValue(done);
    m_progress->setFormat(text);
}

void LabPanel::setBusy(bool busy) {
    m_progress->setVisible(busy);
    m_cancel->setVisible(busy);
    if (busy) {
        m_progress->setRange(0, 0);
        setPending();
    }
}

}  // namespace qs::widgets
