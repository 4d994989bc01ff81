#include "app/gui/input_source.h"

#include <QDir>
#include <QFileInfo>
#include <QImageReader>
#include <QObject>
#include <cstring>

#include "engine/executor.h"
#include "engine/io/npy.h"
#include "engine/preprocess/image.h"
#include "engine/preprocess/pipeline.h"
#include "model/str_format.h"

namespace qs::app {

namespace pp = engine::preprocess;

namespace {

std::string toStd(const QString& s) {
    return s.toStdString();
}

Result<engine::TensorValue> loadFile(const model::Model& m, int subgraph, size_t index,
                                     const QString& path, const QString& pipeline,
                                     QString* summary) {
    const auto& sg = m.subgraphs[static_cast<size_t>(subgraph)];
    const auto& t = sg.tensor(sg.inputs[index]);
    Result<engine::TensorValue> v;
    const bool npy = QFileInfo(path).suffix().toLower() == QLatin1String("npy");
    if (isImageFile(path) || (!npy && !pipeline.isEmpty())) {
        // resolvePipeline and preprocess address inputs of subgraph 0.
        if (subgraph != 0)
            return fail(strFormat("{}: images feed the main subgraph only", toStd(path)));
        auto decoded = decodeImageFile(path);
        if (!decoded) return std::unexpected(decoded.error());
        const pp::Image* image = &decoded->image;
        auto p = pipeline.isEmpty() ? Result<pp::Pipeline>(pp::Pipeline{})
                                    : pp::parsePipeline(pipeline.toStdString());
        if (!p) return fail(strFormat("{}: {}", toStd(path), p.error().message));
        auto r = pp::preprocess(*image, *p, m, index);
        if (!r) return fail(strFormat("{}: {}", toStd(path), r.error().message));
        QString line = QStringLiteral("%1 %2x%3 → %4")
                           .arg(QFileInfo(path).fileName())
                           .arg(image->width)
                           .arg(image->height)
                           .arg(QString::fromStdString(pp::describePipeline(r->resolved)));
        if (r->quant_error) {
            const auto& q = *r->quant_error;
            line += QObject::tr("; input quantization error max %1, mean %2, %3 clamped")
                        .arg(q.max_abs, 0, 'g', 3)
                        .arg(q.mean_abs, 0, 'g', 3)
                        .arg(q.clamped);
        }
        if (summary) {
            if (!summary->isEmpty()) *summary += QStringLiteral("; ");
            *summary += line;
        }
        v = std::move(r->input);
    } else {
        v = engine::readNpy(path.toStdString());
        if (!v) return std::unexpected(v.error());
    }
    if (v->numElements() != t.numElements()) {
        return fail(strFormat("{}: shape ({}) does not match input {} '{}' ({})", toStd(path),
                              engine::shapeString(v->shape()), index, t.name,
                              engine::shapeString(t.shape)));
    }
    if (v->shape() != t.shape) v->reshape(t.shape);
    return v;
}

}  // namespace

bool isImageFile(const QString& path) {
    const QString ext = QFileInfo(path).suffix().toLower();
    return ext == QLatin1String("png") || ext == QLatin1String("jpg") ||
           ext == QLatin1String("jpeg") || ext == QLatin1String("bmp");
}

Result<DecodedImage> decodeImageFile(const QString& path) {
    auto engineImage = pp::readImage(path.toStdString());
    if (engineImage)
        return DecodedImage{std::move(*engineImage), QObject::tr("engine (= cv2.imread)")};
    QImageReader reader(path);
    reader.setAutoTransform(true);  // EXIF orientation, as the engine decoder applies it
    const QByteArray format = reader.format();
    QImage q = reader.read();
    if (q.isNull()) return std::unexpected(engineImage.error());
    int channels = 3;
    if (q.hasAlphaChannel()) {
        q = q.convertToFormat(QImage::Format_RGBA8888);
        channels = 4;
    } else if (q.isGrayscale()) {
        q = q.convertToFormat(QImage::Format_Grayscale8);
        channels = 1;
    } else {
        q = q.convertToFormat(QImage::Format_RGB888);
    }
    pp::Image image(q.width(), q.height(), channels);
    const auto rowBytes = static_cast<size_t>(q.width()) * static_cast<size_t>(channels);
    for (int y = 0; y < q.height(); ++y) std::memcpy(image.row(y), q.constScanLine(y), rowBytes);
    return DecodedImage{std::move(image),
                        QObject::tr("Qt QImageReader (%1)").arg(QString::fromLatin1(format))};
}

InputSpec InputSpec::fromPaths(const QStringList& paths, quint64 seed) {
    InputSpec s;
    s.seed = seed;
    s.paths = paths;
    if (paths.isEmpty())
        s.kind = Kind::Random;
    else if (paths.size() == 1 && QFileInfo(paths.front()).isDir())
        s.kind = Kind::Folder;
    else
        s.kind = Kind::Files;
    return s;
}

QString InputSpec::describe() const {
    switch (kind) {
        case Kind::Random:
            return QObject::tr("random (seed %1)").arg(seed);
        case Kind::Folder:
            return QObject::tr("dataset %1/").arg(QFileInfo(paths.value(0)).fileName());
        case Kind::Files:
            break;
    }
    QStringList names;
    for (const QString& f : paths) names << QFileInfo(f).fileName();
    QString text = names.join(QStringLiteral(", "));
    if (!pipeline.isEmpty()) {
        auto p = pp::parsePipeline(pipeline.toStdString());
        text += QStringLiteral(" [%1]").arg(p ? QString::fromStdString(pp::describePipeline(*p))
                                              : pipeline);
    }
    return text;
}

Result<SampleSet> SampleSet::open(const model::Model& m, int subgraph, const InputSpec& spec) {
    if (subgraph < 0 || static_cast<size_t>(subgraph) >= m.subgraphs.size())
        return fail(strFormat("subgraph {} does not exist", subgraph));
    const size_t inputs = m.subgraphs[static_cast<size_t>(subgraph)].inputs.size();
    SampleSet set;
    set.m_model = &m;
    set.m_subgraph = subgraph;
    set.m_spec = spec;
    switch (spec.kind) {
        case InputSpec::Kind::Random:
            set.m_samples.emplace_back();
            break;
        case InputSpec::Kind::Files:
            if (static_cast<size_t>(spec.paths.size()) != inputs) {
                return fail(strFormat("the model has {} input(s) but {} file(s) were given", inputs,
                                      spec.paths.size()));
            }
            set.m_samples.push_back(spec.paths);
            break;
        case InputSpec::Kind::Folder: {
            const QString folder = spec.paths.value(0);
            const QDir dir(folder);
            if (!dir.exists()) return fail(strFormat("{}: not a folder", toStd(folder)));
            QStringList files;
            for (const QFileInfo& f : dir.entryInfoList(QDir::Files, QDir::Name)) {
                if (f.suffix().toLower() == QLatin1String("npy") || isImageFile(f.filePath()))
                    files << f.filePath();
            }
            if (files.isEmpty())
                return fail(strFormat("{}: no input samples (.npy or image files)", toStd(folder)));
            // One file is one whole sample, so a folder feeds models with one input.
            if (inputs != 1) {
                return fail(
                    strFormat("{}: a folder dataset needs a model with one input (this one "
                              "has {})",
                              toStd(folder), inputs));
            }
            for (const QString& f : files) set.m_samples.push_back({f});
            break;
        }
    }
    return set;
}

QString SampleSet::name(int index) const {
    const QStringList& files = m_samples[static_cast<size_t>(index)];
    if (files.isEmpty()) return m_spec.describe();
    QStringList names;
    for (const QString& f : files) names << QFileInfo(f).fileName();
    return names.join(QStringLiteral(", "));
}

Result<LoadedSample> SampleSet::load(int index) const {
    const QStringList& files = m_samples[static_cast<size_t>(index)];
    LoadedSample out;
    if (files.isEmpty()) {
        auto v = engine::seededInputs(*m_model, SubgraphId{m_subgraph}, m_spec.seed);
        if (!v) return std::unexpected(v.error());
        out.values = std::move(*v);
        return out;
    }
    for (qsizetype i = 0; i < files.size(); ++i) {
        auto v = loadFile(*m_model, m_subgraph, static_cast<size_t>(i), files[i], m_spec.pipeline,
                          &out.summary);
        if (!v) return std::unexpected(v.error());
        out.values.push_back(std::move(*v));
    }
    return out;
}

}  // namespace qs::app
