#include "app/gui/lessons.h"

#include <QDockWidget>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonParseError>

#include <algorithm>
#include <cmath>

#include "app/gui/main_window.h"
#include "app/gui/model_document.h"
#include "app/gui/playground_controller.h"
#include "engine/analysis/metrics.h"
#include "engine/trace/profile_diff.h"
#include "model/str_format.h"
#include "widgets/playground/lesson_panel.h"

namespace qs::app {

namespace pg = engine::playground;

namespace {

int tensorIndex(const model::Model& m, const QString& name) {
    const auto& sg = m.main();
    for (size_t i = 0; i < sg.tensors.size(); ++i)
        if (QString::fromStdString(sg.tensors[i].name) == name) return static_cast<int>(i);
    return -1;
}

std::optional<model::DType> parseDType(const QString& s) {
    if (s == QLatin1String("int8")) return model::DType::Int8;
    if (s == QLatin1String("uint8")) return model::DType::UInt8;
    if (s == QLatin1String("int16")) return model::DType::Int16;
    return std::nullopt;
}

QString inRange(const QString& what, double v, const QJsonObject& claim) {
    const double lo = claim.value(QStringLiteral("min")).toDouble(-INFINITY);
    const double hi = claim.value(QStringLiteral("max")).toDouble(INFINITY);
    if (v >= lo && v <= hi) return {};
    return QStringLiteral("%1 = %2, expected [%3, %4]").arg(what).arg(v, 0, 'g', 6).arg(lo).arg(hi);
}

void collectTensors(const QJsonObject& setup, const QJsonArray& claims, QStringList* out) {
    auto add = [out](const QString& t) {
        if (!t.isEmpty() && !out->contains(t)) out->append(t);
    };
    add(setup.value(QStringLiteral("select")).toString());
    for (const auto& c : claims) add(c.toObject().value(QStringLiteral("tensor")).toString());
}

}  // namespace

Result<QList<Lesson>> parseLessons(const QByteArray& json) {
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (doc.isNull()) return fail("lessons: " + error.errorString().toStdString());
    QList<Lesson> out;
    for (const auto& v : doc.object().value(QStringLiteral("lessons")).toArray()) {
        const QJsonObject o = v.toObject();
        Lesson l;
        l.id = o.value(QStringLiteral("id")).toString();
        l.title = o.value(QStringLiteral("title")).toString();
        for (const auto& t : o.value(QStringLiteral("tensors")).toArray())
            l.tensors << t.toString();
        for (const auto& s : o.value(QStringLiteral("steps")).toArray()) {
            const QJsonObject so = s.toObject();
            LessonStep step;
            step.title = so.value(QStringLiteral("title")).toString();
            // The text is stored as an array of lines to keep the JSON readable.
            const QJsonValue html = so.value(QStringLiteral("html"));
            if (html.isArray()) {
                QStringList lines;
                for (const auto& line : html.toArray()) lines << line.toString();
                step.html = lines.join(QLatin1Char(' '));
            } else {
                step.html = html.toString();
            }
            step.setup = so.value(QStringLiteral("setup")).toObject();
            step.claims = so.value(QStringLiteral("claims")).toArray();
            collectTensors(step.setup, step.claims, &l.tensors);
            l.steps << step;
        }
        if (l.title.isEmpty() || l.steps.isEmpty())
            return fail(strFormat("lesson {} has no title or no steps", out.size()));
        out << l;
    }
    if (out.isEmpty()) return fail("lessons: none found");
    return out;
}

Result<QList<Lesson>> bundledLessons() {
    QFile f(QStringLiteral(":/lessons/lessons.json"));
    if (!f.open(QIODevice::ReadOnly)) return fail("lessons: :/lessons/lessons.json is missing");
    return parseLessons(f.readAll());
}

QStringList checkClaims(const LessonStep& step, const MainWindow& window) {
    QStringList failures;
    const auto* doc = window.document();
    const auto* outcome = window.lastOutcome();
    if (!doc) return {QStringLiteral("no model open")};
    const auto& model = doc->model();
    for (const auto& v : step.claims) {
        const QJsonObject c = v.toObject();
        const QString kind = c.value(QStringLiteral("kind")).toString();
        const QString tensor = c.value(QStringLiteral("tensor")).toString();
        const QString metric = c.value(QStringLiteral("metric")).toString();
        if (kind == QLatin1String("metric")) {
            const int t = tensorIndex(model, tensor);
            const auto* analysis = outcome ? outcome->metrics.analysis.get() : nullptr;
            const auto* def = engine::analysis::findMetric(metric.toStdString());
            if (t < 0 || !analysis || !def) {
                failures << QStringLiteral("metric claim: no tensor '%1', run or metric %2")
                                .arg(tensor, metric);
                continue;
            }
            const auto it = std::find_if(analysis->tensors.begin(), analysis->tensors.end(),
                                         [t](const auto& e) { return e.tensor.value == t; });
            if (it == analysis->tensors.end()) {
                failures << QStringLiteral("metric claim: tensor '%1' not analysed").arg(tensor);
                continue;
            }
            const QString f =
                inRange(metric + QStringLiteral(" of ") + tensor, it->averaged.*(def->field), c);
            if (!f.isEmpty()) failures << f;
        } else if (kind == QLatin1String("playground")) {
            const auto* p = window.playground();
            const auto& e = p->evaluation();
            double value = NAN;
            if (metric == QLatin1String("rmse_lsb")) value = e.total.rmse_lsb;
            if (metric == QLatin1String("sqnr_db")) value = e.total.sqnr_db;
            if (metric == QLatin1String("clipped_pct")) value = e.clippedPct();
            if (metric == QLatin1String("other_sqnr_db")) value = p->otherSqnrDb();
            const auto& frame = p->frame();
            auto minOf = [](const QVector<double>& v) {
                double m = INFINITY;
                for (double x : v) m = std::min(m, x);
                return m;
            };
            if (metric == QLatin1String("channel_sqnr_min")) value = minOf(frame.channelSqnr);
            if (metric == QLatin1String("scale_min") || metric == QLatin1String("scale_max")) {
                const bool lo = metric == QLatin1String("scale_min");
                value = lo ? INFINITY : 0.0;
                for (const auto& g : p->grids())
                    value = lo ? std::min(value, g.scale) : std::max(value, g.scale);
            }
            if (metric == QLatin1String("zero_pct") && !p->values().empty()) {
                const auto zeros = std::count(p->values().begin(), p->values().end(), 0.0f);
                value =
                    100.0 * static_cast<double>(zeros) / static_cast<double>(p->values().size());
            }
            // How much worse the other granularity's worst channel is.
            if (metric == QLatin1String("worst_channel_gap_db"))
                value = minOf(frame.channelSqnr) - minOf(frame.otherChannelSqnr);
            const QString f = inRange(QStringLiteral("playground ") + metric, value, c);
            if (!f.isEmpty()) failures << f;
        } else if (kind == QLatin1String("profile_diff")) {
            const int t = tensorIndex(model, tensor);
            const auto a =
                engine::parseProfile(c.value(QStringLiteral("a")).toString().toStdString());
            const auto b =
                engine::parseProfile(c.value(QStringLiteral("b")).toString().toStdString());
            if (t < 0 || !a || !b) {
                failures << QStringLiteral("profile_diff claim: bad tensor or profiles");
                continue;
            }
            auto cmp = engine::trace::compareProfiles(model, SubgraphId{0}, {}, *a, *b, 0);
            if (!cmp) {
                failures << QString::fromStdString(cmp.error().message);
                continue;
            }
            // "measure": differing elements (default) or the largest difference in steps.
            const bool maxAbs =
                c.value(QStringLiteral("measure")).toString() == QLatin1String("max_abs");
            double value = NAN;
            for (const auto& l : cmp->diff.layers)
                if (l.tensor.value == t)
                    value = maxAbs ? l.max_abs : static_cast<double>(l.differing);
            const QString f = inRange((maxAbs ? QStringLiteral("largest difference in ")
                                              : QStringLiteral("elements differing in ")) +
                                          tensor,
                                      value, c);
            if (!f.isEmpty()) failures << f;
        } else {
            failures << QStringLiteral("unknown claim kind '%1'").arg(kind);
        }
    }
    return failures;
}

LessonRunner::LessonRunner(MainWindow* window, widgets::LessonPanel* panel, QDockWidget* dock)
    : QObject(window), m_window(window), m_panel(panel), m_dock(dock) {
    auto lessons = bundledLessons();
    if (lessons)
        m_lessons = std::move(*lessons);
    else
        m_loadError = QString::fromStdString(lessons.error().message);
    connect(panel, &widgets::LessonPanel::stepChanged, this, &LessonRunner::goToStep);
    connect(window, &MainWindow::runFinished, this, [this] {
        if (m_waiting) applyWhenIdle();
    });
}

const Lesson* LessonRunner::current() const {
    return m_lesson >= 0 && m_lesson < m_lessons.size() ? &m_lessons[m_lesson] : nullptr;
}

bool LessonRunner::start(int index, QString* error) {
    if (index < 0 || index >= m_lessons.size()) {
        *error = m_loadError.isEmpty()
                     ? tr("no lesson %1 (there are %2)").arg(index + 1).arg(m_lessons.size())
                     : m_loadError;
        return false;
    }
    const QString sample = bundledSamplePath();
    if (sample.isEmpty()) {
        *error = tr("the bundled sample model is missing");
        return false;
    }
    const auto* doc = m_window->document();
    if (!doc ||
        QFileInfo(doc->path()).canonicalFilePath() != QFileInfo(sample).canonicalFilePath()) {
        if (!m_window->openModel(sample, false)) {
            *error = tr("cannot open the bundled sample %1").arg(sample);
            return false;
        }
    }
    // The numbers in the texts are those of the seeded random input, seed 0.
    m_window->setSeed(0);
    m_lesson = index;
    m_panel->setLesson(m_lessons[index].title, [&] {
        QList<widgets::LessonStepText> steps;
        for (const auto& s : m_lessons[index].steps) steps.push_back({s.title, s.html});
        return steps;
    }());
    m_dock->show();
    m_dock->raise();
    goToStep(0);
    return true;
}

QJsonObject LessonRunner::mergedSetup() const {
    QJsonObject merged, playground;
    const Lesson* l = current();
    if (!l) return merged;
    for (int i = 0; i <= m_step && i < l->steps.size(); ++i) {
        const QJsonObject& s = l->steps[i].setup;
        for (auto it = s.begin(); it != s.end(); ++it) {
            if (it.key() == QLatin1String("playground")) {
                const QJsonObject p = it.value().toObject();
                // A new source starts the playground afresh.
                if (p.contains(QStringLiteral("source"))) playground = {};
                for (auto pi = p.begin(); pi != p.end(); ++pi) playground[pi.key()] = pi.value();
            } else {
                merged[it.key()] = it.value();
            }
        }
    }
    if (!playground.isEmpty()) merged[QStringLiteral("playground")] = playground;
    return merged;
}

void LessonRunner::goToStep(int step) {
    const Lesson* l = current();
    if (!l) return;
    m_step = std::clamp(step, 0, static_cast<int>(l->steps.size()) - 1);
    if (m_panel->step() != m_step) m_panel->showStep(m_step);
    m_ready = false;
    const QJsonObject setup = mergedSetup();
    if (setup.contains(QStringLiteral("profile"))) {
        if (auto p = engine::parseProfile(
                setup.value(QStringLiteral("profile")).toString().toStdString()))
            m_window->setProfile(*p, false);  // the lesson's, not the user's default
    }
    if (setup.contains(QStringLiteral("mode")))
        m_window->setErrorMode(
            setup.value(QStringLiteral("mode")).toString() == QLatin1String("local")
                ? ErrorMode::Local
                : ErrorMode::Accumulated,
            false);
    applyWhenIdle();
}

void LessonRunner::applyWhenIdle() {
    // Wait for a finished run of the requested profile and mode.
    const auto* out = m_window->lastOutcome();
    if (m_window->runs()->running() || !out || out->request.profile != m_window->profile() ||
        out->request.mode != m_window->errorMode()) {
        m_waiting = true;
        return;
    }
    m_waiting = false;
    applySelection();
}

void LessonRunner::applySelection() {
    const QJsonObject setup = mergedSetup();
    const QString select = setup.value(QStringLiteral("select")).toString();
    if (!select.isEmpty()) m_window->selectTensorByName(select);
    const QJsonObject p = setup.value(QStringLiteral("playground")).toObject();
    if (!p.isEmpty()) {
        auto* c = m_window->playground();
        const QString source = p.value(QStringLiteral("source")).toString();
        if (source == QLatin1String("tensor"))
            c->setSource(PlaygroundController::kTensorSource);
        else if (source == QLatin1String("weights"))
            c->setSource(PlaygroundController::kWeightsSource);
        else if (auto d = pg::parseDistribution(source.toStdString()))
            c->setSource(static_cast<int>(*d));
        const QString grid = p.value(QStringLiteral("grid")).toString();
        if (grid == QLatin1String("file")) {
            c->useFileGrids();
        } else {
            if (auto t = parseDType(p.value(QStringLiteral("dtype")).toString())) c->setDType(*t);
            if (p.contains(QStringLiteral("symmetric")))
                c->setSymmetric(p.value(QStringLiteral("symmetric")).toBool());
            if (p.contains(QStringLiteral("per_channel")))
                c->setPerChannel(p.value(QStringLiteral("per_channel")).toBool());
            if (grid == QLatin1String("percentile")) c->calibrate(pg::Calibration::Percentile);
            if (grid == QLatin1String("mse")) c->calibrate(pg::Calibration::MseOptimal);
        }
        if (p.contains(QStringLiteral("channel")))
            c->setChannel(p.value(QStringLiteral("channel")).toInt());
        if (auto* dock = m_window->playgroundDock()) {
            dock->show();
            dock->raise();
        }
    }
    m_ready = true;
    emit stepReady(m_lesson, m_step);
}

}  // namespace qs::app
