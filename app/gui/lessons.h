// Guided lessons (Help › Lessons): each opens the bundled sample and walks through a few steps.
// A step's setup (rounding profile, error mode, the tensor to select, the playground's source
// and grid) is applied when the step is shown; setups accumulate, so step k looks the same
// whether reached with Next or Previous. The content lives in resources/lessons/lessons.json
// (compiled in as :/lessons/lessons.json) together with the claims each step makes about the
// sample's numbers, which checkClaims() verifies (tests/app/lessons_test.cpp runs it).
//
// Setup keys: "profile" (reference, single-rounding, ...), "mode" (accumulated, local),
// "select" (a tensor name), "playground": {"source": "tensor" | "weights" | a distribution
// name, "dtype": "int8" | "uint8" | "int16", "symmetric": bool, "per_channel": bool,
// "grid": "file" | "minmax" | "percentile" | "mse", "channel": N}.
// Claim kinds: {"kind": "metric", "tensor", "metric" (a kMetrics name), "min", "max"} on the
// last run; {"kind": "playground", "metric": rmse_lsb | sqnr_db | clipped_pct | other_sqnr_db |
// channel_sqnr_min | worst_channel_gap_db (worst channel's SQNR minus the other granularity's
// worst channel's) | scale_min | scale_max (over the grids) | zero_pct (% of the values that are
// exactly 0.0), "min", "max"}; {"kind": "profile_diff", "tensor", "a", "b", "min", "max",
// "measure": "differing" (default) | "max_abs"}: elements of the tensor that differ between two
// profiles on the seeded input (seed 0), or their largest difference in steps.
#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>

#include "model/error.h"

class QDockWidget;

namespace qs::widgets {
class LessonPanel;
}

namespace qs::app {

class MainWindow;

struct LessonStep {
    QString title;
    QString html;
    QJsonObject setup;
    QJsonArray claims;
};

struct Lesson {
    QString id;
    QString title;
    QStringList tensors;  // every tensor the lesson refers to
    QList<LessonStep> steps;
};

Result<QList<Lesson>> parseLessons(const QByteArray& json);
// The bundled lessons (:/lessons/lessons.json).
Result<QList<Lesson>> bundledLessons();

// One line per claim of `step` that does not hold for the window's current state (the step's
// setup applied and its run finished); empty when all hold.
QStringList checkClaims(const LessonStep& step, const MainWindow& window);

class LessonRunner : public QObject {
    Q_OBJECT
public:
    LessonRunner(MainWindow* window, widgets::LessonPanel* panel, QDockWidget* dock);

    const QList<Lesson>& lessons() const { return m_lessons; }
    const QString& loadError() const { return m_loadError; }
    // Opens the bundled sample (when another model is open), sets the seeded random input (seed
    // 0: the lessons' numbers are for it) and shows step 0 of `index`.
    bool start(int index, QString* error);
    void goToStep(int step);
    int lesson() const { return m_lesson; }
    int step() const { return m_step; }
    // The current step's setup has been applied (its run finished, the tensor selected).
    bool ready() const { return m_ready; }
    const Lesson* current() const;

signals:
    void stepReady(int lesson, int step);

private:
    void applyWhenIdle();
    void applySelection();
    QJsonObject mergedSetup() const;

    MainWindow* m_window;
    widgets::LessonPanel* m_panel;
    QDockWidget* m_dock;
    QList<Lesson> m_lessons;
    QString m_loadError;
    int m_lesson = -1, m_step = 0;
    bool m_ready = false;
    bool m_waiting = false;
};

}  // namespace qs::app
