// Value types the preprocessing lab's widgets draw. The app fills them from engine results
// (engine/preprocess/lab.h); the widgets never compute statistics from pixels.
#pragma once

#include <QImage>
#include <QString>
#include <QStringList>
#include <QVector>
#include <limits>

namespace qs::widgets {

// One entry of an editor's combo box: the spelling the app parses and what the user reads.
struct LabChoice {
    QString key;      // e.g. "opencv-area"
    QString label;    // e.g. "OpenCV INTER_AREA"
    QString tooltip;  // e.g. "cv2.resize(..., interpolation=cv2.INTER_AREA)"
};

struct LabChoices {
    QVector<LabChoice> methods, crops, orders, norms;
    int modelWidth = 0, modelHeight = 0;  // the model input's size (editor default)
};

// What a pipeline editor holds. width/height 0: the model input's size.
struct LabPipelineSpec {
    QString name;
    QString method = QStringLiteral("opencv-linear");
    int width = 0, height = 0;
    QString crop = QStringLiteral("stretch");
    QString order = QStringLiteral("rgb");
    QString norm = QStringLiteral("auto");
    QString mean, std;  // custom normalization, "R:G:B" or one value
    QString divisor = QStringLiteral("255");
    bool operator==(const LabPipelineSpec&) const = default;
};

struct LabChannelStats {
    QString channel;  // "R", "G", "B" or "Y"
    double min = 0, max = 0, mean = 0, std = 0;
};

struct LabClass {
    int index = 0;
    QString label;  // empty when no labels are known
    double score = 0;
};

// The outcome of one pipeline.
struct LabPipelineResult {
    QString error;                   // one line; the rest is empty when set
    QImage image;                    // the resized image as the model sees it, shown in RGB
    QString resolved;                // the pipeline with defaults filled in (one line)
    QString inputInfo;               // input tensor, quantization error (one line)
    QVector<LabChannelStats> stats;  // of the normalized values
    QVector<LabClass> top;
    int classes = 0;
    // Accumulated quantization error; NaN where not available.
    double outputSqnrDb = std::numeric_limits<double>::quiet_NaN();
    double outputRmseLsb = std::numeric_limits<double>::quiet_NaN();
    double meanRmseLsb = std::numeric_limits<double>::quiet_NaN();
    QString worstLayer;  // tensor name (op)
    double worstSqnrDb = std::numeric_limits<double>::quiet_NaN();
    QString analysisError;  // why the error summary is missing
    bool ok() const { return error.isEmpty(); }
};

// The difference between two pipelines' images (a - b).
struct LabDifference {
    QString error;       // e.g. the sizes differ
    int a = -1, b = -1;  // pipeline indices
    QString space;       // "pixels" or "normalized"
    int width = 0, height = 0;
    QVector<float> absMax;  // per pixel, row-major: max over channels of |a - b|
    double maxAbs = 0, meanAbs = 0, rmse = 0, psnrDb = 0, peak = 0;
    QVector<double> channelMaxAbs;
    bool ok() const { return error.isEmpty() && width > 0; }
};

}  // namespace qs::widgets
