#include "app/gui/model_document.h"

#include <QFileInfo>

#include "model/describe.h"
#include "model/loader.h"

namespace qs::app {

namespace {

QString qs(std::string_view s) { return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size())); }

QString joinIds(const std::vector<TensorId>& ids) {
    QStringList parts;
    for (const auto id : ids) parts << QString::number(id.value);
    return parts.join(',');
}

QString describeTensors(const model::Subgraph& sg, const std::vector<TensorId>& ids) {
    QStringList parts;
    for (const auto id : ids) {
        if (!id.valid()) continue;
        const auto& t = sg.tensor(id);
        parts << QStringLiteral("%1 %2 %3")
                     .arg(qs(t.name), qs(model::dtypeName(t.dtype)), qs(model::formatShape(t.shape)));
    }
    return parts.join(QStringLiteral(", "));
}

}  // namespace

Result<std::shared_ptr<const ModelDocument>> ModelDocument::open(const QString& path) {
    auto loaded = model::loadModel(path.toStdString());
    if (!loaded) return std::unexpected(loaded.error());
    auto doc = std::make_shared<ModelDocument>();
    doc->m_model = std::move(*loaded);
    doc->m_path = path;
    return doc;
}

QString ModelDocument::fileName() const { return QFileInfo(m_path).fileName(); }

QString ModelDocument::summary(int subgraph) const {
    const auto& sg = m_model.subgraphs.at(static_cast<size_t>(subgraph));
    return QStringLiteral("%1 ops, %2 tensors — inputs: %3 — outputs: %4")
        .arg(sg.operators.size())
        .arg(sg.tensors.size())
        .arg(describeTensors(sg, sg.inputs), describeTensors(sg, sg.outputs));
}

QVector<widgets::OpRow> ModelDocument::opRows(int subgraph) const {
    const auto& sg = m_model.subgraphs.at(static_cast<size_t>(subgraph));
    QVector<widgets::OpRow> rows;
    rows.reserve(static_cast<qsizetype>(sg.operators.size()));
    for (size_t i = 0; i < sg.operators.size(); ++i) {
        const auto& op = sg.operators[i];
        widgets::OpRow row;
        row.index = static_cast<int>(i);
        row.type = qs(op.name());
        row.options = qs(model::formatKeyOptions(op));
        row.inputs = joinIds(op.inputs);
        row.outputs = joinIds(op.outputs);
        if (!op.outputs.empty() && op.outputs[0].valid()) {
            const auto& out = sg.tensor(op.outputs[0]);
            row.outputName = qs(out.name);
            row.outputDtype = qs(model::dtypeName(out.dtype));
            row.outputShape = qs(model::formatShape(out.shape));
            row.outputQuant = qs(model::formatQuantization(out.quantization));
        }
        if (const auto* w = model::quantizedWeights(sg, op)) {
            row.weightsQuant = qs(model::formatQuantization(w->quantization));
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

}  // namespace qs::app
