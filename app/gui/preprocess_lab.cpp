#include "app/gui/preprocess_lab.h"

#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QSettings>
#include <QThread>
#include <QTimer>
#include <QVBoxLayout>
#include <cmath>

#include "app/gui/model_document.h"
#include "model/associated_files.h"
#include "model/str_format.h"
#include "widgets/preprocess/lab_panel.h"

namespace qs::app {

namespace pp = engine::preprocess;

namespace {

constexpr auto kLabDirKey = "lab/lastDir";
constexpr int kTopK = 5;

QString fromStd(std::string_view s) {
    return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size()));
}

// The resized image as the model sees it, shown in RGB (a BGR pipeline swapped back).
QImage toQImage(const pp::FloatImage& resized, pp::ChannelOrder order) {
    pp::Image img = pp::toUint8(resized);
    if (order == pp::ChannelOrder::Bgr && img.channels >= 3) img = pp::swapRedBlue(img);
    QImage::Format format = QImage::Format_RGB888;
    if (img.channels == 1) format = QImage::Format_Grayscale8;
    if (img.channels == 4) format = QImage::Format_RGBA8888;
    QImage q(img.width, img.height, format);
    const auto rowBytes = static_cast<size_t>(img.width) * static_cast<size_t>(img.channels);
    for (int y = 0; y < img.height; ++y) std::memcpy(q.scanLine(y), img.row(y), rowBytes);
    return q;
}

QStringList channelNames(int channels, pp::ChannelOrder order) {
    if (channels == 1) return {QStringLiteral("Y")};
    QStringList n =
        order == pp::ChannelOrder::Bgr
            ? QStringList{QStringLiteral("B"), QStringLiteral("G"), QStringLiteral("R")}
            : QStringList{QStringLiteral("R"), QStringLiteral("G"), QStringLiteral("B")};
    if (channels == 4) n << QStringLiteral("A");
    return n;
}

widgets::LabChoices choicesFor(const model::Model& m) {
    widgets::LabChoices c;
    for (const auto& info : pp::resizeMethods())
        c.methods.push_back({fromStd(info.name), fromStd(info.description), fromStd(info.name)});
    c.crops = {{QStringLiteral("stretch"), QObject::tr("stretch"), {}},
               {QStringLiteral("center"), QObject::tr("center crop"), {}},
               {QStringLiteral("pad"), QObject::tr("pad to aspect"), {}}};
    c.orders = {{QStringLiteral("rgb"), QStringLiteral("RGB"), {}},
                {QStringLiteral("bgr"), QStringLiteral("BGR"), {}}};
    c.norms = {
        {QStringLiteral("auto"), QObject::tr("auto (model)"),
         QObject::tr("TFLite Metadata mean/std, else what the input quantization implies")},
        {QStringLiteral("0to1"), QStringLiteral("[0,1]"), QStringLiteral("pixel / 255")},
        {QStringLiteral("-1to1"), QStringLiteral("[-1,1]"),
         QStringLiteral("(pixel - 127.5) / 127.5")},
        {QStringLiteral("imagenet"), QObject::tr("ImageNet mean/std"),
         QStringLiteral("(pixel / 255 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]")},
        {QStringLiteral("raw"), QObject::tr("raw 0–255"), QObject::tr("pixel values unchanged")},
        {QStringLiteral("input-quant"), QObject::tr("input quantization"),
         QObject::tr("the values whose quantization gives back the pixel")},
        {QStringLiteral("metadata"), QObject::tr("metadata mean/std"),
         QObject::tr("the model's TFLite Metadata NormalizationOptions")},
        {QStringLiteral("custom"), QObject::tr("custom"),
         QObject::tr("(pixel / divisor - mean) / std with the values below")},
    };
    if (auto r = pp::resolvePipeline(pp::Pipeline{}, m, 0)) {
        c.modelWidth = r->width;
        c.modelHeight = r->height;
    }
    return c;
}

}  // namespace

QString pipelineSpecText(const widgets::LabPipelineSpec& s) {
    QStringList parts;
    parts << QStringLiteral("method=") + s.method;
    if (s.width > 0 || s.height > 0)
        parts << QStringLiteral("size=%1x%2").arg(s.width).arg(s.height);
    parts << QStringLiteral("crop=") + s.crop << QStringLiteral("order=") + s.order;
    parts << QStringLiteral("norm=") + s.norm;
    if (s.norm == QLatin1String("custom")) {
        if (!s.mean.isEmpty()) parts << QStringLiteral("mean=") + s.mean;
        if (!s.std.isEmpty()) parts << QStringLiteral("std=") + s.std;
        if (!s.divisor.isEmpty()) parts << QStringLiteral("div=") + s.divisor;
    }
    return parts.join(QLatin1Char(','));
}

struct PreprocessLab::Job {
    std::shared_ptr<const ModelDocument> document;
    std::shared_ptr<const model::Model> floatModel;
    std::shared_ptr<const pp::Image> image;
    std::vector<Result<pp::Pipeline>> pipelines;
    engine::RoundingProfile profile = engine::RoundingProfile::Reference;
    std::atomic<bool> cancel{false};
    std::vector<Result<pp::LabEvaluation>> results;
    bool cancelled = false;
};

PreprocessLab::PreprocessLab(QWidget* parent)
    : QWidget(parent, Qt::Window),
      m_panel(new widgets::LabPanel(this)),
      m_debounce(new QTimer(this)) {
    setWindowTitle(tr("Preprocessing Lab — Quantscope"));
    setObjectName(QStringLiteral("preprocessingLab"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_panel);
    resize(1400, 1000);
    m_debounce->setSingleShot(true);
    m_debounce->setInterval(120);  // editing a spin box does not restart the work per step
    connect(m_debounce, &QTimer::timeout, this, &PreprocessLab::launch);
    connect(m_panel, &widgets::LabPanel::pipelinesChanged, this, &PreprocessLab::schedule);
    connect(m_panel, &widgets::LabPanel::compareChanged, this, &PreprocessLab::updateDifference);
    connect(m_panel, &widgets::LabPanel::openImageRequested, this, &PreprocessLab::chooseImage);
    connect(m_panel, &widgets::LabPanel::openLabelsRequested, this, &PreprocessLab::chooseLabels);
    connect(m_panel, &widgets::LabPanel::useAsInput, this, &PreprocessLab::emitUseAsInput);
    connect(m_panel, &widgets::LabPanel::cancelRequested, this, &PreprocessLab::cancel);
    connect(this, &PreprocessLab::workerProgress, m_panel, &widgets::LabPanel::setProgress);
    m_panel->setImageInfo(tr("No image: choose one with Image… (Ctrl+O)"));
}

PreprocessLab::~PreprocessLab() {
    m_pending = false;
    cancel();
    waitForIdle();
}

void PreprocessLab::setDocument(std::shared_ptr<const ModelDocument> document) {
    cancel();
    m_document = std::move(document);
    m_evals.clear();
    m_results.clear();
    if (!m_document) return;
    const auto& m = m_document->model();
    setWindowTitle(tr("Preprocessing Lab — %1").arg(m_document->fileName()));
    m_labels.clear();
    m_labelsSource.clear();
    auto labels = model::outputLabels(m, 0);
    if (labels && !labels->empty()) {
        for (const auto& l : *labels) m_labels << QString::fromStdString(l);
        m_labelsSource = tr("model metadata (%1)")
                             .arg(QString::fromStdString(m.output_info[0].label_files.front()));
    } else if (!labels) {
        m_labelsSource = tr("none (%1)").arg(QString::fromStdString(labels.error().message));
    }
    updateLabelsInfo();
    m_panel->setChoices(choicesFor(m));
    widgets::LabPipelineSpec first;  // the model's default pipeline (pp::Pipeline{})
    first.name = tr("model default");
    first.method = fromStd(pp::resizeMethodInfo(pp::Pipeline{}.method).name);
    widgets::LabPipelineSpec second = first;
    second.name = tr("INTER_AREA");
    second.method = fromStd(pp::resizeMethodInfo(pp::ResizeMethod::OpencvArea).name);
    m_panel->setPipelines({first, second});
}

void PreprocessLab::setReference(engine::RoundingProfile profile,
                                 std::shared_ptr<const model::Model> floatModel) {
    if (profile == m_profile && floatModel == m_floatModel) return;
    m_profile = profile;
    m_floatModel = std::move(floatModel);
    schedule();
}

bool PreprocessLab::openImage(const QString& path, QString* error) {
    auto decoded = decodeImageFile(path);
    if (!decoded) {
        const QString e = QString::fromStdString(decoded.error().message);
        m_panel->setImageInfo(tr("<span style='color:#c0392b'>%1</span>").arg(e.toHtmlEscaped()));
        if (error) *error = e;
        return false;
    }
    m_image = std::make_shared<const pp::Image>(std::move(decoded->image));
    m_imagePath = path;
    m_decoder = decoded->decoder;
    m_imageInfo = tr("<b>%1</b> %2×%3, %4 channel(s) — decoder: %5")
                      .arg(QFileInfo(path).fileName().toHtmlEscaped())
                      .arg(m_image->width)
                      .arg(m_image->height)
                      .arg(m_image->channels)
                      .arg(m_decoder.toHtmlEscaped());
    m_panel->setImageInfo(m_imageInfo);
    schedule();
    return true;
}

bool PreprocessLab::openLabels(const QString& path, QString* error) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        if (error) *error = tr("%1: %2").arg(path, f.errorString());
        return false;
    }
    const QByteArray bytes = f.readAll();
    m_labels.clear();
    for (const auto& l :
         model::parseLabels(std::string_view(bytes.constData(), static_cast<size_t>(bytes.size()))))
        m_labels << QString::fromStdString(l);
    m_labelsSource = QFileInfo(path).fileName();
    updateLabelsInfo();
    showResults();
    return true;
}

void PreprocessLab::updateLabelsInfo() {
    if (m_labels.isEmpty()) {
        m_panel->setLabelsInfo(m_labelsSource.isEmpty() ? tr("Labels: none (class indices)")
                                                        : tr("Labels: %1").arg(m_labelsSource));
        return;
    }
    QString text = tr("Labels: %1, %2").arg(m_labelsSource).arg(m_labels.size());
    // A list one short or long (with or without "background") shifts every class name.
    const auto* e = evaluation(0);
    if (e && e->output_classes != m_labels.size())
        text += tr(" <span style='color:#c0392b'>(the output has %1 classes)</span>")
                    .arg(e->output_classes);
    m_panel->setLabelsInfo(text);
}

Result<pp::Pipeline> PreprocessLab::pipeline(int i) const {
    const auto specs = m_panel->pipelines();
    if (i < 0 || i >= specs.size()) return fail(strFormat("no pipeline {}", i + 1));
    return pp::parsePipeline(pipelineSpecText(specs[i]).toStdString());
}

const pp::LabEvaluation* PreprocessLab::evaluation(int i) const {
    if (i < 0 || static_cast<size_t>(i) >= m_evals.size() || !m_evals[static_cast<size_t>(i)])
        return nullptr;
    return &*m_evals[static_cast<size_t>(i)];
}

const widgets::LabPipelineResult* PreprocessLab::result(int i) const {
    if (i < 0 || static_cast<size_t>(i) >= m_results.size()) return nullptr;
    return &m_results[static_cast<size_t>(i)];
}

void PreprocessLab::schedule() {
    m_debounce->start();
}

void PreprocessLab::cancel() {
    m_debounce->stop();
    if (m_job) m_job->cancel.store(true);
}

void PreprocessLab::waitForIdle() {
    while (m_thread) {
        m_thread->wait();
        threadDone();
    }
}

void PreprocessLab::launch() {
    if (!m_document || !m_image) return;
    if (m_thread) {  // restarted as soon as the running job has stopped
        m_pending = true;
        m_job->cancel.store(true);
        return;
    }
    m_pending = false;
    auto job = std::make_shared<Job>();
    job->document = m_document;
    job->floatModel = m_floatModel;
    job->image = m_image;
    job->profile = m_profile;
    for (int i = 0; i < m_panel->pipelineCount(); ++i) job->pipelines.push_back(pipeline(i));
    m_job = job;
    m_panel->setBusy(true);
    m_panel->setImageInfo(m_imageInfo);
    m_thread = QThread::create([this, job] {
        const auto& m = job->document->model();
        const int n = static_cast<int>(job->pipelines.size());
        for (int i = 0; i < n; ++i) {
            const auto& p = job->pipelines[static_cast<size_t>(i)];
            if (!p) {
                job->results.push_back(std::unexpected(p.error()));
                continue;
            }
            pp::LabOptions o;
            o.top_k = kTopK;
            o.profile = job->profile;
            o.float_model = job->floatModel.get();
            int last = -1;
            o.progress = [&](int done, int total) {
                // Overall percent; one queued signal per percent at most.
                const int pct = (100 * i + 100 * done / std::max(total, 1)) / n;
                if (pct != last) {
                    last = pct;
                    emit workerProgress(pct, 100, tr("pipeline %1/%2 %p%").arg(i + 1).arg(n));
                }
                return !job->cancel.load();
            };
            auto r = pp::evaluatePipeline(*job->image, *p, m, o);
            if (job->cancel.load() || (r && r->cancelled)) {
                job->cancelled = true;
                return;
            }
            job->results.push_back(std::move(r));
        }
    });
    connect(m_thread, &QThread::finished, this, &PreprocessLab::threadDone);
    m_thread->start(QThread::LowPriority);
}

void PreprocessLab::threadDone() {
    if (!m_thread || !m_thread->isFinished()) return;
    m_thread->deleteLater();
    m_thread = nullptr;
    auto job = std::move(m_job);
    m_panel->setBusy(false);
    if (m_pending) {
        launch();
        return;
    }
    if (!job || job->cancelled) {
        m_panel->setImageInfo(m_imageInfo + tr(" — <i>cancelled; change a pipeline to compute "
                                               "again</i>"));
        for (int i = 0; i < m_panel->pipelineCount(); ++i) {
            if (static_cast<size_t>(i) < m_results.size())
                m_panel->setResult(i, m_results[static_cast<size_t>(i)]);
        }
        return;
    }
    m_evals.clear();
    for (auto& r : job->results) {
        if (r)
            m_evals.emplace_back(std::move(*r));
        else
            m_evals.emplace_back(std::nullopt);
    }
    // Only the values were moved out; the errors are still in job->results.
    m_results.assign(job->results.size(), {});
    for (size_t i = 0; i < job->results.size(); ++i) {
        if (!job->results[i])
            m_results[i].error = QString::fromStdString(job->results[i].error().message);
    }
    showResults();
    emit evaluated();
}

void PreprocessLab::showResults() {
    if (!m_document) return;
    updateLabelsInfo();
    const auto& sg = m_document->model().main();
    const auto producers = sg.operators.empty() ? std::vector<OpId>{} : sg.producers();
    for (size_t i = 0; i < m_evals.size() && i < m_results.size(); ++i) {
        if (!m_evals[i]) {
            m_panel->setResult(static_cast<int>(i), m_results[i]);
            continue;
        }
        const pp::LabEvaluation& e = *m_evals[i];
        widgets::LabPipelineResult r;
        r.image = toQImage(e.pre.resized, e.pre.resolved.order);
        r.resolved = QString::fromStdString(pp::describePipeline(e.pre.resolved));
        const auto& in = sg.tensor(sg.inputs.front());
        r.inputInfo = tr("input %1 %2")
                          .arg(QString::fromStdString(in.name),
                               QString::fromStdString(engine::shapeString(in.shape)));
        if (e.pre.quant_error) {
            const auto& q = *e.pre.quant_error;
            r.inputInfo += tr("; quantized (scale %1, zero point %2): error max %3, mean %4, "
                              "%5 clamped")
                               .arg(q.scale, 0, 'g', 4)
                               .arg(q.zero_point)
                               .arg(q.max_abs, 0, 'g', 3)
                               .arg(q.mean_abs, 0, 'g', 3)
                               .arg(q.clamped);
        }
        const QStringList names =
            channelNames(static_cast<int>(e.stats.size()), e.pre.resolved.order);
        for (size_t c = 0; c < e.stats.size(); ++c) {
            const auto& s = e.stats[c];
            r.stats.push_back({names.value(static_cast<int>(c)), s.min, s.max, s.mean, s.std});
        }
        r.classes = e.output_classes;
        for (const auto& t : e.top) r.top.push_back({t.index, m_labels.value(t.index), t.score});
        if (e.errors) {
            const auto& s = *e.errors;
            r.outputSqnrDb = s.output_sqnr_db;
            r.outputRmseLsb = s.output_rmse_lsb;
            r.meanRmseLsb = s.mean_rmse_lsb;
            r.worstSqnrDb = s.worst_sqnr_db;
            if (s.worst_tensor >= 0) {
                const auto& t = sg.tensors[static_cast<size_t>(s.worst_tensor)];
                r.worstLayer = QString::fromStdString(t.name);
                const auto op =
                    producers.empty() ? OpId{} : producers[static_cast<size_t>(s.worst_tensor)];
                if (op.valid())
                    r.worstLayer += QStringLiteral(" (%1 #%2)")
                                        .arg(QString::fromStdString(sg.op(op).name()))
                                        .arg(op.value);
            }
        } else {
            r.analysisError = e.analysis_error.empty() ? tr("not available")
                                                       : QString::fromStdString(e.analysis_error);
        }
        m_results[i] = r;
        m_panel->setResult(static_cast<int>(i), r);
    }
    updateDifference();
}

void PreprocessLab::updateDifference() {
    widgets::LabDifference d;
    d.a = m_panel->compareA();
    d.b = m_panel->compareB();
    d.space = m_panel->compareSpace();
    const auto* a = evaluation(d.a);
    const auto* b = evaluation(d.b);
    if (!a || !b) {
        d.error = m_evals.empty() ? tr("Waiting for results…")
                                  : tr("Pipeline %1 or %2 has no result").arg(d.a + 1).arg(d.b + 1);
        m_diff = d;
        m_panel->setDifference(d);
        return;
    }
    const bool pixels = d.space == QLatin1String("pixels");
    auto peak = pixels ? Result<double>(255.0)
                       : pp::normalizedPeak(a->pre.resolved, a->pre.resized.channels);
    auto diff = peak ? (pixels ? pp::difference(a->pre.resized, b->pre.resized, *peak)
                               : pp::difference(pp::normalizedImage(a->pre),
                                                pp::normalizedImage(b->pre), *peak))
                     : Result<pp::ImageDifference>(std::unexpected(peak.error()));
    if (!diff) {
        d.error = QString::fromStdString(diff.error().message);
    } else {
        d.width = diff->width;
        d.height = diff->height;
        d.absMax = QVector<float>(diff->abs_max.begin(), diff->abs_max.end());
        d.maxAbs = diff->max_abs;
        d.meanAbs = diff->mean_abs;
        d.rmse = diff->rmse;
        d.psnrDb = diff->psnr_db;
        d.peak = diff->peak;
        d.channelMaxAbs =
            QVector<double>(diff->channel_max_abs.begin(), diff->channel_max_abs.end());
    }
    m_diff = d;
    m_panel->setDifference(d);
}

void PreprocessLab::chooseImage() {
    QSettings settings;
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Choose a photo"), settings.value(kLabDirKey).toString(),
        tr("Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp *.tif *.tiff *.ppm *.pgm);;All files "
           "(*)"));
    if (path.isEmpty()) return;
    settings.setValue(kLabDirKey, QFileInfo(path).absolutePath());
    openImage(path);
}

void PreprocessLab::chooseLabels() {
    QSettings settings;
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Choose a labels file (one class per line)"),
        settings.value(kLabDirKey).toString(), tr("Text files (*.txt);;All files (*)"));
    if (path.isEmpty()) return;
    QString error;
    if (!openLabels(path, &error)) m_panel->setLabelsInfo(error);
}

void PreprocessLab::emitUseAsInput(int index) {
    if (m_imagePath.isEmpty()) return;
    const auto* e = evaluation(index);
    auto p = pipeline(index);
    if (!p) return;
    InputSpec spec = InputSpec::fromPaths({m_imagePath}, 0);
    // The resolved pipeline, so the main window computes exactly what this column shows.
    spec.pipeline = QString::fromStdString(pp::formatPipeline(e ? e->pre.resolved : *p));
    emit useAsInput(spec);
}

}  // namespace qs::app
