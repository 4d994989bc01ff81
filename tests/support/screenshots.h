// Screenshots of GUI tests: where they go (QS_SCREENSHOT_DIR, else the temp dir) and whether an
// image is blank (a rendered view has many distinct colours, not one flat fill).
#pragma once

#include <QDir>
#include <QImage>
#include <QSet>
#include <QString>

namespace qs::test {

inline QString screenshotDir() {
    const QString dir = qEnvironmentVariable("QS_SCREENSHOT_DIR", QDir::tempPath());
    QDir().mkpath(dir);
    return dir;
}

// Distinct colours on a lattice of `step` pixels.
inline int distinctColours(const QImage& image, int step = 3) {
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += step)
        for (int x = 0; x < image.width(); x += step) colours.insert(image.pixel(x, y));
    return static_cast<int>(colours.size());
}

}  // namespace qs::test
