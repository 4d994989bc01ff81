#include "app/gui/trace_data.h"

#include <QObject>
#include <algorithm>
#include <map>

#include "app/gui/tensor_view_data.h"
#include "engine/analysis/float_twin.h"
#include "model/str_format.h"

namespace qs::app {

namespace tr = engine::trace;

namespace {

// Rows of the terms table; a conv window of 3x3x512 has 4608 terms, the table shows the first.
constexpr int kMaxTermRows = 256;

QString qs(const std::string& s) {
    return QString::fromStdString(s);
}

QString coords(std::span<const int32_t> c) {
    QStringList parts;
    for (int32_t v : c) parts << QString::number(v);
    return QStringLiteral("(%1)").arg(parts.join(QLatin1Char(',')));
}

widgets::TraceStepRow commonRow(const tr::TraceStep& s) {
    widgets::TraceStepRow r;
    r.key = qs(s.key);
    r.label = qs(s.label);
    r.formula = qs(s.formula);
    r.values = {qs(s.value.toString())};
    return r;
}

// Element `i` as stored (integers exactly, floats round-trippable).
QString storedText(const engine::TensorValue& v, qint64 i) {
    const auto k = static_cast<size_t>(i);
    switch (v.dtype()) {
        case model::DType::Int8:
            return QString::number(v.data<int8_t>()[k]);
        case model::DType::UInt8:
            return QString::number(v.data<uint8_t>()[k]);
        case model::DType::Int16:
            return QString::number(v.data<int16_t>()[k]);
        case model::DType::Int32:
            return QString::number(v.data<int32_t>()[k]);
        case model::DType::Int64:
            return QString::number(v.data<int64_t>()[k]);
        case model::DType::Float32:
            return QString::number(static_cast<double>(v.data<float>()[k]), 'g', 9);
        default:
            return QStringLiteral("?");
    }
}

}  // namespace

QString profileDisplayName(engine::RoundingProfile p) {
    const auto n = engine::profileName(p);
    return QString::fromLatin1(n.data(), static_cast<qsizetype>(n.size()));
}

widgets::TraceViewData traceViewData(const tr::ElementTrace& t, const QString& source) {
    widgets::TraceViewData d;
    QStringList at;
    for (int32_t v : t.element) at << QString::number(v);
    d.title = QObject::tr("op %1 %2 → tensor %3, element [%4] (flat %5), %6")
                  .arg(t.op.value)
                  .arg(qs(t.op_name))
                  .arg(t.output.value)
                  .arg(at.join(QStringLiteral(", ")))
                  .arg(t.flat_index)
                  .arg(QString::fromLatin1(model::dtypeName(t.dtype).data()));
    d.tensorName = qs(t.output_name);
    d.source = source;
    d.runOutput = t.run_output;

    const bool weights = !t.terms.empty() && t.terms.front().has_weight;
    d.termHeaders =
        weights ? QStringList{QObject::tr("#"),      QObject::tr("input"),  QObject::tr("q"),
                              QObject::tr("q − zp"), QObject::tr("weight"), QObject::tr("w"),
                              QObject::tr("w − zp"), QObject::tr("product")}
                : QStringList{QObject::tr("#"), QObject::tr("operand"), QObject::tr("coordinate"),
                              QObject::tr("q"), QObject::tr("q − zp"),  QObject::tr("real")};
    d.termsTotal = static_cast<int>(t.terms.size());
    for (size_t i = 0; i < t.terms.size() && i < static_cast<size_t>(kMaxTermRows); ++i) {
        const auto& m = t.terms[i];
        if (weights)
            d.terms << QStringList{QString::number(i),
                                   coords(m.input_coord),
                                   QString::number(m.input_q),
                                   QString::number(m.input_centered),
                                   coords(m.weight_coord),
                                   QString::number(m.weight_q),
                                   QString::number(m.weight_centered),
                                   QString::number(m.product)};
        else
            d.terms << QStringList{QString::number(i),
                                   QString::number(m.input),
                                   coords(m.input_coord),
                                   QString::number(m.input_q),
                                   QString::number(m.input_centered),
                                   QString::number(m.input_real, 'g', 9)};
    }
    if (t.skipped_taps)
        d.termsNote =
            QObject::tr("%n window tap(s) in the padding, not summed", nullptr, t.skipped_taps);
    for (const auto& s : t.common) d.common << commonRow(s);

    // One row per step key, ordered by stage, then by where the key first appears (profiles
    // in column order), so each profile's column reads top to bottom in its own order.
    struct Key {
        int stage;
        size_t first;
        std::string key;
    };
    std::vector<Key> keys;
    std::map<std::string, size_t> index;
    size_t seq = 0;
    for (const auto& p : t.profiles)
        for (const auto& s : p.steps) {
            if (!index.count(s.key)) {
                index[s.key] = keys.size();
                keys.push_back({s.stage, seq, s.key});
            }
            ++seq;
        }
    std::stable_sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) {
        return a.stage != b.stage ? a.stage < b.stage : a.first < b.first;
    });
    const qsizetype n = static_cast<qsizetype>(t.profiles.size());
    for (const auto& p : t.profiles) {
        d.profiles << profileDisplayName(p.profile);
        d.profileTips << QObject::tr("%1 — %2").arg(qs(p.rule), qs(p.upstream));
        d.outputs << p.output;
        d.outputReals << p.output_real;
    }
    for (const Key& k : keys) {
        widgets::TraceStepRow row;
        row.key = qs(k.key);
        row.values.resize(n);
        row.formulas.resize(n);
        const tr::StepValue* firstValue = nullptr;
        for (qsizetype c = 0; c < n; ++c) {
            for (const auto& s : t.profiles[static_cast<size_t>(c)].steps) {
                if (s.key != k.key) continue;
                if (row.label.isEmpty()) {
                    row.label = qs(s.label);
                    row.formula = qs(s.formula);
                }
                row.values[c] = qs(s.value.toString());
                row.formulas[c] = qs(s.formula);
                row.parting = row.parting || s.parting;
                if (s.comparable) {
                    if (firstValue && !(*firstValue == s.value)) row.differs = true;
                    if (!firstValue) firstValue = &s.value;
                }
                break;
            }
        }
        d.steps << row;
    }
    d.floatValue = t.float_value;
    d.floatIdealQ = t.float_ideal_q;
    if (t.parting) {
        QStringList values;
        for (const auto& p : t.profiles)
            for (const auto& s : p.steps)
                if (s.parting)
                    values << QStringLiteral("%1 %2").arg(profileDisplayName(p.profile),
                                                          qs(s.value.toString()));
        d.verdict =
            QObject::tr("The profiles part at “%1”: %2; %3")
                .arg(qs(t.parting->label), values.join(QStringLiteral(", ")),
                     t.outputs_differ ? QObject::tr("the final outputs differ.")
                                      : QObject::tr("the final outputs agree (absorbed later)."));
    } else if (t.profiles.size() > 1) {
        d.verdict = QObject::tr("All profiles agree at every step.");
    }
    for (const auto& note : t.notes) d.notes << qs(note);
    d.text = source + QLatin1Char('\n') + qs(tr::formatTrace(t));
    d.json = qs(tr::traceJson(t));
    return d;
}

widgets::DiffTableData diffTableData(const tr::ProfileComparison& c) {
    widgets::DiffTableData d;
    d.profileA = profileDisplayName(c.a);
    d.profileB = profileDisplayName(c.b);
    for (const auto& l : c.diff.layers) {
        widgets::DiffLayerRow r;
        r.op = l.op.value;
        r.tensor = l.tensor.value;
        r.opName = qs(l.op_name);
        r.tensorName = qs(l.tensor_name);
        r.elements = l.elements;
        r.differing = l.differing;
        r.maxAbs = l.max_abs;
        for (size_t b = 0; b < tr::kDiffBuckets && b < r.buckets.size(); ++b)
            r.buckets[b] = l.histogram[b];
        r.compared = l.compared;
        d.rows << r;
    }
    d.firstDiffering = c.diff.first_differing ? static_cast<int>(*c.diff.first_differing) : -1;
    d.totalDiffering = c.diff.total_differing;
    d.totalCompared = c.diff.total_compared;
    return d;
}

Result<std::shared_ptr<widgets::TensorPlotData>> diffPlotData(
    const model::Model& model, int subgraph, int tensor,
    const std::shared_ptr<const tr::ProfileComparison>& comparison) {
    const auto& sg = model.subgraphs[static_cast<size_t>(subgraph)];
    if (!comparison) return fail("no profile comparison yet");
    if (tensor < 0 || static_cast<size_t>(tensor) >= sg.tensors.size())
        return fail("no tensor selected");
    const model::Tensor& info = sg.tensors[static_cast<size_t>(tensor)];
    auto get = [tensor](const engine::RunResult& r) -> const engine::TensorValue* {
        if (static_cast<size_t>(tensor) >= r.values.size()) return nullptr;
        const auto& v = r.values[static_cast<size_t>(tensor)];
        return v.valid() ? &v : nullptr;
    };
    const engine::TensorValue* a = get(comparison->run_a);
    const engine::TensorValue* b = get(comparison->run_b);
    if (!a || !b)
        return fail(strFormat("tensor {} '{}' was not computed by both runs", tensor, info.name));
    // A's values in float as the "reference" of the maps: the planes then hold A, B, B − A
    // and (B − A) / scale, the difference in stored steps.
    auto aReal = engine::analysis::dequantizeValue(*a, info.quantization);
    if (!aReal) return std::unexpected(aReal.error());
    auto data = comparedPlotData(info, tensor, *b, *aReal);
    if (!data) return data;
    widgets::TensorPlotData& t = **data;
    const QString na = profileDisplayName(comparison->a), nb = profileDisplayName(comparison->b);
    using Q = widgets::MapQuantity;
    t.quantityNames[static_cast<size_t>(Q::Reference)] = QObject::tr("%1 (dequantized)").arg(na);
    t.quantityNames[static_cast<size_t>(Q::Dequantized)] = QObject::tr("%1 (dequantized)").arg(nb);
    t.quantityNames[static_cast<size_t>(Q::Error)] = QObject::tr("%1 − %2 (real)").arg(nb, na);
    t.quantityNames[static_cast<size_t>(Q::ErrorLsb)] =
        t.quantized ? QObject::tr("%1 − %2 (steps)").arg(nb, na)
                    : QObject::tr("%1 − %2 (real)").arg(nb, na);
    t.quantityNames[static_cast<size_t>(Q::AbsError)] = QObject::tr("|%1 − %2|").arg(nb, na);
    // The hover text reads the stored values of both runs (kept alive by the comparison).
    std::shared_ptr<const tr::ProfileComparison> keep = comparison;
    t.describeElement = [keep, a, b, na, nb](qint64 i) {
        const QString va = storedText(*a, i), vb = storedText(*b, i);
        QString text = QStringLiteral("%1 %2  %3 %4").arg(na, va, nb, vb);
        if (va != vb) text += QObject::tr("  differs");
        return text;
    };
    return data;
}

}  // namespace qs::app
