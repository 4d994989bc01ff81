#include "widgets/preprocess/pipeline_column.h"

#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>
#include <cmath>

#include "widgets/plots/plot_style.h"
#include "widgets/preprocess/pixel_image_view.h"

namespace qs::widgets {

namespace {

void fill(QComboBox* box, const QVector<LabChoice>& choices) {
    // Long library calls must not widen four columns past the screen; the popup shows them.
    box->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    box->setMinimumContentsLength(8);
    for (const auto& c : choices) {
        box->addItem(c.label, c.key);
        box->setItemData(box->count() - 1, c.tooltip, Qt::ToolTipRole);
    }
}

void select(QComboBox* box, const QString& key) {
    const int i = box->findData(key);
    if (i >= 0) box->setCurrentIndex(i);
}

QString orDash(double v, const char* unit) {
    return std::isnan(v) ? QStringLiteral("–") : num(v) + QLatin1String(unit);
}

QLabel* infoLabel(QWidget* parent) {
    auto* l = new QLabel(parent);
    l->setWordWrap(true);
    l->setTextInteractionFlags(Qt::TextSelectableByMouse);
    l->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    return l;
}

}  // namespace

PipelineColumn::PipelineColumn(const LabChoices& choices, ZoomLink* link, QWidget* parent)
    : QFrame(parent),
      m_name(new QLineEdit(this)),
      m_remove(new QToolButton(this)),
      m_method(new QComboBox(this)),
      m_width(new QSpinBox(this)),
      m_height(new QSpinBox(this)),
      m_crop(new QComboBox(this)),
      m_order(new QComboBox(this)),
      m_norm(new QComboBox(this)),
      m_mean(new QLineEdit(this)),
      m_std(new QLineEdit(this)),
      m_divisor(new QLineEdit(this)),
      m_view(new PixelImageView(this)),
      m_info(infoLabel(this)),
      m_stats(infoLabel(this)),
      m_top(infoLabel(this)),
      m_errors(infoLabel(this)),
      m_use(new QPushButton(tr("Use as input"), this)) {
    setFrameShape(QFrame::StyledPanel);
    m_name->setToolTip(tr("A name for this pipeline, e.g. \"training\" or \"deployment\""));
    m_remove->setText(QStringLiteral("✕"));
    m_remove->setToolTip(tr("Remove this pipeline"));
    fill(m_method, choices.methods);
    m_method->setToolTip(
        tr("Resize method (the library call it reproduces is in each item's "
           "tooltip)"));
    for (QSpinBox* s : {m_width, m_height}) {
        s->setRange(0, 8192);
        s->setSpecialValueText(tr("model"));
        s->setToolTip(tr("Target size; \"model\": the model input's (%1x%2)")
                          .arg(choices.modelWidth)
                          .arg(choices.modelHeight));
    }
    fill(m_crop, choices.crops);
    m_crop->setToolTip(
        tr("stretch: whole image; center: centred crop to the target aspect "
           "ratio; pad: padded to it"));
    fill(m_order, choices.orders);
    m_order->setToolTip(tr("Channel order fed to the model (BGR as cv2.imread returns it)"));
    fill(m_norm, choices.norms);
    m_norm->setToolTip(
        tr("Normalization; auto: TFLite Metadata, else what the input's "
           "quantization implies"));
    m_mean->setPlaceholderText(tr("mean, e.g. 0.485:0.456:0.406"));
    m_std->setPlaceholderText(tr("std, e.g. 0.229:0.224:0.225"));
    m_divisor->setPlaceholderText(tr("divisor"));
    m_divisor->setToolTip(tr("value = (pixel / divisor - mean) / std"));
    m_view->setLink(link);
    m_view->setPlaceholder(tr("No image yet: choose one with Image… (Ctrl+O)"));
    m_use->setToolTip(tr("Make this image and pipeline the main window's input and rerun"));

    auto* head = new QHBoxLayout;
    head->addWidget(m_name, 1);
    head->addWidget(m_remove);
    // Compact editors, so the preview gets the height.
    auto* form = new QGridLayout;
    form->setContentsMargins(0, 0, 0, 0);
    form->addWidget(new QLabel(tr("Resize"), this), 0, 0);
    form->addWidget(m_method, 0, 1, 1, 3);
    form->addWidget(new QLabel(tr("Size"), this), 1, 0);
    auto* size = new QHBoxLayout;
    size->addWidget(m_width);
    size->addWidget(new QLabel(QStringLiteral("×"), this));
    size->addWidget(m_height);
    form->addLayout(size, 1, 1);
    form->addWidget(new QLabel(tr("Crop"), this), 1, 2);
    form->addWidget(m_crop, 1, 3);
    form->addWidget(new QLabel(tr("Order"), this), 2, 0);
    form->addWidget(m_order, 2, 1);
    form->addWidget(new QLabel(tr("Norm."), this), 2, 2);
    form->addWidget(m_norm, 2, 3);
    auto* custom = new QHBoxLayout;
    custom->addWidget(m_mean, 2);
    custom->addWidget(m_std, 2);
    custom->addWidget(m_divisor, 1);
    form->addLayout(custom, 3, 1, 1, 3);
    form->setColumnStretch(1, 1);
    form->setColumnStretch(3, 1);

    auto* numbers = new QHBoxLayout;
    auto* left = new QVBoxLayout;
    left->addWidget(m_stats);
    left->addWidget(m_errors);
    left->addStretch();
    numbers->addLayout(left, 1);
    numbers->addWidget(m_top, 1);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addLayout(head);
    layout->addLayout(form);
    layout->addWidget(m_view, 1);
    layout->addWidget(m_info);
    layout->addLayout(numbers);
    layout->addWidget(m_use);

    const auto changed = [this] {
        updateCustomEnabled();
        if (!m_loading) emit specChanged();
    };
    for (QComboBox* b : {m_method, m_crop, m_order, m_norm})
        connect(b, &QComboBox::currentIndexChanged, this, changed);
    for (QSpinBox* s : {m_width, m_height}) connect(s, &QSpinBox::valueChanged, this, changed);
    for (QLineEdit* e : {m_mean, m_std, m_divisor, m_name})
        connect(e, &QLineEdit::editingFinished, this, changed);
    connect(m_use, &QPushButton::clicked, this, &PipelineColumn::useAsInputClicked);
    connect(m_remove, &QToolButton::clicked, this, &PipelineColumn::removeClicked);
    updateCustomEnabled();
}

void PipelineColumn::updateCustomEnabled() {
    // Shown only for a custom normalization.
    const bool custom = m_norm->currentData().toString() == QLatin1String("custom");
    for (QLineEdit* e : {m_mean, m_std, m_divisor}) e->setVisible(custom);
}

void PipelineColumn::setSpec(const LabPipelineSpec& s) {
    m_loading = true;
    m_name->setText(s.name);
    select(m_method, s.method);
    m_width->setValue(s.width);
    m_height->setValue(s.height);
    select(m_crop, s.crop);
    select(m_order, s.order);
    select(m_norm, s.norm);
    m_mean->setText(s.mean);
    m_std->setText(s.std);
    m_divisor->setText(s.divisor);
    updateCustomEnabled();
    m_loading = false;
}

LabPipelineSpec PipelineColumn::spec() const {
    LabPipelineSpec s;
    s.name = m_name->text();
    s.method = m_method->currentData().toString();
    s.width = m_width->value();
    s.height = m_height->value();
    s.crop = m_crop->currentData().toString();
    s.order = m_order->currentData().toString();
    s.norm = m_norm->currentData().toString();
    s.mean = m_mean->text().trimmed();
    s.std = m_std->text().trimmed();
    s.divisor = m_divisor->text().trimmed();
    return s;
}

void PipelineColumn::setPending(bool pending) {
    if (pending && m_view->image().isNull()) m_view->setPlaceholder(tr("Computing…"));
    for (QLabel* l : {m_info, m_stats, m_top, m_errors}) l->setEnabled(!pending);
}

void PipelineColumn::setRemovable(bool removable) {
    m_remove->setEnabled(removable);
}

void PipelineColumn::setResult(const LabPipelineResult& r) {
    setPending(false);
    m_use->setEnabled(r.ok());
    if (!r.ok()) {
        m_view->setImage({});
        m_view->setPlaceholder(r.error);
        m_info->setText(
            QStringLiteral("<span style='color:#c0392b'>%1</span>").arg(r.error.toHtmlEscaped()));
        for (QLabel* l : {m_stats, m_top, m_errors}) l->clear();
        return;
    }
    m_view->setImage(r.image);
    m_info->setText(QStringLiteral("%1<br><small>%2</small>")
                        .arg(r.resolved.toHtmlEscaped(), r.inputInfo.toHtmlEscaped()));
    // Three significant digits and no wrapping: four columns share a screen.
    const auto n3 = [](double v) { return QString::number(v, 'g', 3); };
    QString stats =
        tr("<table cellspacing=0 cellpadding=1><tr><th></th><th>min</th><th>max</th>"
           "<th>mean</th><th>std</th></tr>");
    for (const auto& c : r.stats) {
        stats += QStringLiteral(
                     "<tr><td><b>%1</b></td><td align=right nowrap>%2</td><td "
                     "align=right nowrap>%3</td><td align=right nowrap>%4</td><td "
                     "align=right nowrap>%5</td></tr>")
                     .arg(c.channel, n3(c.min), n3(c.max), n3(c.mean), n3(c.std));
    }
    m_stats->setText(stats + QStringLiteral("</table>"));
    m_stats->setToolTip(tr("Statistics of the normalized values the model is fed (float)"));

    QString top = tr("<b>Top %1</b> of %2 classes<table cellspacing=0 cellpadding=1>")
                      .arg(r.top.size())
                      .arg(r.classes);
    for (const auto& c : r.top) {
        const QString name = c.label.isEmpty() ? tr("class %1").arg(c.index)
                                               : QStringLiteral("%1 <small>(%2)</small>")
                                                     .arg(c.label.toHtmlEscaped())
                                                     .arg(c.index);
        top += QStringLiteral("<tr><td align=right>%1&nbsp;</td><td>%2</td></tr>")
                   .arg(num(c.score), name);
    }
    m_top->setText(top + QStringLiteral("</table>"));

    if (!r.analysisError.isEmpty()) {
        m_errors->setText(tr("Error analysis: %1").arg(r.analysisError.toHtmlEscaped()));
    } else {
        m_errors->setText(tr("<b>Accumulated error</b><br>output SQNR %1, RMSE %2<br>"
                             "mean RMSE %3 over tensors<br>worst: %4 (%5)")
                              .arg(orDash(r.outputSqnrDb, " dB"), orDash(r.outputRmseLsb, " LSB"),
                                   orDash(r.meanRmseLsb, " LSB"), r.worstLayer.toHtmlEscaped(),
                                   orDash(r.worstSqnrDb, " dB")));
    }
}

}  // namespace qs::widgets
