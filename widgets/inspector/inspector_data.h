// What the inspector shows of one op: plain values the app computes (quantization parameters,
// the multiplier/shift TFLite derives, weight statistics). The widget only formats them.
#pragma once

#include <QPair>
#include <QString>
#include <QVector>
#include <algorithm>

namespace qs::widgets {

struct InspectorTensor {
    QString role;  // "input", "weights", "bias", "output"
    int index = -1;
    QString name;
    QString dtype;
    QString shape;
    bool constant = false;
    QVector<double> scales;  // empty when not quantized
    QVector<qint64> zeroPoints;
    int quantizedDimension = 0;
};

// Per output channel (per-tensor quantization gives one channel).
struct InspectorChannels {
    QString axisNote;                                    // "output channels (weights axis 0)"
    QVector<double> effectiveScale;                      // s_in * s_w[c] / s_out
    QVector<int> multiplier;                             // quantized multiplier (Q0.31)
    QVector<int> shift;                                  // TFLite convention: > 0 left shift
    QVector<double> weightMin, weightMax, weightAbsMax;  // real values (dequantized)
    int size() const {
        return static_cast<int>(std::max(effectiveScale.size(), weightAbsMax.size()));
    }
};

struct InspectorData {
    QString title;                             // "#12 CONV_2D"
    QString options;                           // "3x3 s2x2 SAME RELU6"
    QVector<QPair<QString, QString>> details;  // "Status" -> "evaluated", metric values ...
    QVector<InspectorTensor> tensors;
    InspectorChannels channels;
    bool empty() const { return title.isEmpty(); }
};

}  // namespace qs::widgets
