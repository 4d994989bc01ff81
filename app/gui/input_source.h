// Where a run's input samples come from: seeded random, files (one .npy array or image per
// model input), or a folder as a dataset (every .npy / image in it, sorted, one sample each,
// for a single-input model). Images go through the model's default preprocessing pipeline
// (engine/preprocess resolvePipeline), as `quantscope-cli report --input IMAGE` does without
// --preprocess. Samples are read one at a time, on the worker thread, so a large folder is
// never held in memory at once.
#pragma once

#include <QString>
#include <QStringList>
#include <vector>

#include "engine/preprocess/image.h"
#include "engine/tensor_value.h"
#include "model/error.h"
#include "model/model.h"

namespace qs::app {

struct InputSpec {
    enum class Kind { Random, Files, Folder };
    Kind kind = Kind::Random;
    QStringList paths;  // Files: one per subgraph input, in order; Folder: the folder
    quint64 seed = 0;
    // Images: the preprocessing pipeline (engine/preprocess parsePipeline spec, e.g. from the
    // preprocessing lab's "Use as input"); empty: the model's default pipeline.
    QString pipeline;

    // One existing directory: Folder; no path: Random (with `seed`); else Files.
    static InputSpec fromPaths(const QStringList& paths, quint64 seed);
    bool isRandom() const { return kind == Kind::Random; }
    QString describe() const;
};

// .png, .jpg, .jpeg, .bmp (any case).
bool isImageFile(const QString& path);

// An image file decoded for preprocessing, and which decoder read it.
struct DecodedImage {
    engine::preprocess::Image image;
    QString decoder;  // e.g. "engine (= cv2.imread)" or "Qt QImageReader (gif)"
};
// The engine's decoder first: its pixels equal cv2.imread's (libjpeg-turbo/libpng with
// OpenCV's settings), which is the point of comparing pipelines. Formats it cannot read
// (GIF, WebP, TIFF, ... whatever Qt's image plugins provide) fall back to QImageReader with
// the EXIF orientation applied (setAutoTransform), converted to gray, RGB or RGBA; those
// pixels may differ from another library's decoder. Errors are one line naming the file.
Result<DecodedImage> decodeImageFile(const QString& path);

struct LoadedSample {
    std::vector<engine::TensorValue> values;  // one per subgraph input
    // Image inputs: file, preprocessing pipeline and input quantization error (one line).
    QString summary;
};

// The samples an InputSpec names for one subgraph of a model.
class SampleSet {
public:
    // Lists the samples (a folder's files); errors: empty folder, wrong file count, images
    // for a subgraph other than the main one. Keeps a pointer to `m`.
    static Result<SampleSet> open(const model::Model& m, int subgraph, const InputSpec& spec);

    int count() const { return static_cast<int>(m_samples.size()); }
    QString name(int index) const;
    // Reads sample `index`; errors name the file (unreadable, wrong shape, ...).
    Result<LoadedSample> load(int index) const;

private:
    const model::Model* m_model = nullptr;
    int m_subgraph = 0;
    InputSpec m_spec;
    std::vector<QStringList> m_samples;  // one path per subgraph input; empty: seeded random
};

}  // namespace qs::app
