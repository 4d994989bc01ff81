// What the element trace panel and the profile difference view draw: plain strings and
// numbers prepared by the app from engine/trace (element_trace.h, profile_diff.h). The
// widgets show them as they are.
#pragma once

#include <QString>
#include <QStringList>
#include <QVector>
#include <array>
#include <optional>

namespace qs::widgets {

// One step of the arithmetic: a row of the steps table.
struct TraceStepRow {
    QString key;      // stable id, shared by the profiles that compute the same quantity
    QString label;    // what the step is
    QString formula;  // how it is computed (tooltip); per profile when they differ
    // One value per profile column (empty: the profile has no such step).
    QVector<QString> values;
    QVector<QString> formulas;  // per profile, for the cell tooltips
    bool parting = false;       // the step where the profiles part
    bool differs = false;       // the profiles that have the step disagree on it
};

struct TraceViewData {
    QString title;       // op, tensor index, element
    QString tensorName;  // the output tensor's name (often long: a tooltip)
    QString error;       // set: the trace cannot be shown, one line why (nothing else is)
    QString source;      // where the op's inputs come from ("the int run under reference")

    // Inputs summary: the terms (window and weights with zero points removed, or the
    // broadcast / reduced inputs) and the steps every profile shares (accumulator, bias).
    QStringList termHeaders;
    QVector<QStringList> terms;  // at most a few hundred rows
    int termsTotal = 0;
    QString termsNote;             // "9 taps in the padding skipped"
    QVector<TraceStepRow> common;  // one value each (values[0])

    // Steps table: one column per profile, one row per step key.
    QStringList profiles;     // column names
    QStringList profileTips;  // rule and upstream source per column
    QVector<TraceStepRow> steps;
    QVector<qint64> outputs;  // final integer per profile
    QVector<double> outputReals;
    double floatValue = 0.0;   // float computation, dequantized inputs in double
    double floatIdealQ = 0.0;  // where it lands on the output grid
    std::optional<qint64> runOutput;
    QString verdict;  // where the profiles part, or that they agree
    QStringList notes;

    QString text;  // the whole trace as text (Copy)
    QString json;  // as JSON (Export)
};

// One row of the profile difference table: an op output compared between two profiles.
inline constexpr int kDiffBucketCount = 6;
struct DiffLayerRow {
    int op = -1;
    int tensor = -1;
    QString opName;
    QString tensorName;
    qint64 elements = 0;
    qint64 differing = 0;
    double maxAbs = 0.0;
    std::array<qint64, kDiffBucketCount> buckets{};  // |delta| 1, 2, 3-4, 5-8, 9-16, > 16
    bool compared = false;
};

struct DiffTableData {
    QString profileA, profileB;
    QVector<DiffLayerRow> rows;
    int firstDiffering = -1;  // row index, -1 when the profiles agree everywhere
    qint64 totalDiffering = 0, totalCompared = 0;
};

}  // namespace qs::widgets
