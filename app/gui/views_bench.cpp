#include "app/gui/views_bench.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QImage>
#include <QTabWidget>
#include <algorithm>
#include <ctime>
#include <utility>
#include <vector>

#include "app/gui/main_window.h"
#include "app/gui/model_document.h"
#include "widgets/graph/graph_panel.h"
#include "widgets/graph/graph_view.h"
#include "widgets/plots/heatmap_view.h"
#include "widgets/plots/tensor_views_panel.h"

namespace qs::app {

namespace {

// CPU time of the calling thread: what the switch cost, less sensitive than wall time to
// other processes sharing the cores.
double threadCpuMs() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

// "min/median/max" of `ms`, "-" when empty.
QString stats(std::vector<double> ms) {
    if (ms.empty()) return QStringLiteral("-");
    std::sort(ms.begin(), ms.end());
    return QStringLiteral("%1/%2/%3")
        .arg(ms.front(), 0, 'f', 1)
        .arg(ms[ms.size() / 2], 0, 'f', 1)
        .arg(ms.back(), 0, 'f', 1);
}

}  // namespace

QStringList benchTensorViews(MainWindow& window, int switches, QString* error) {
    const RunOutcome* outcome = window.lastOutcome();
    if (!window.document() || !outcome || !outcome->metrics.values) {
        *error = QStringLiteral("no finished run to time the tensor views on");
        return {};
    }
    auto* graph = window.graphPanel()->view();
    const auto& sg =
        window.document()->model().subgraphs[static_cast<size_t>(window.currentSubgraph())];
    // The largest compared tensors that have a node to click.
    std::vector<std::pair<int64_t, int>> sizes;
    for (const auto& [tensor, values] : *outcome->metrics.values) {
        if (tensor < 0 || static_cast<size_t>(tensor) >= sg.tensors.size()) continue;
        if (graph->nodeForTensor(tensor) < 0) continue;
        sizes.emplace_back(values.quant.numElements(), tensor);
    }
    std::sort(sizes.rbegin(), sizes.rend());
    if (sizes.size() > 4) sizes.resize(4);
    if (sizes.size() < 2) {
        *error = QStringLiteral("the run has fewer than two compared tensors to switch between");
        return {};
    }
    auto* panel = window.tensorViews();
    auto* tabs = panel->tabs();
    auto* heatmap = panel->heatmap();
    const int tab0 = tabs->currentIndex();
    const bool tiled0 = heatmap->tiled();
    struct Setup {
        const char* name;
        int tab;
        bool tiled;
    };
    const Setup setups[] = {{"heatmap (one channel)", 0, false},
                            {"heatmap (all channels)", 0, true},
                            {"channels", 1, false},
                            {"histograms", 2, false},
                            {"scatter & saturation", 3, false}};
    if (!panel->isVisible()) {
        *error = QStringLiteral("the tensor views are hidden");
        return {};
    }
    QStringList sizeList;
    for (const auto& [elements, tensor] : sizes) sizeList << QString::number(elements);
    QStringList lines;
    lines << QStringLiteral(
                 "bench views: %1 switches per tab among the %2 largest compared "
                 "tensors (%3 elements), panel %4 x %5 px; min/median/max ms")
                 .arg(switches)
                 .arg(sizes.size())
                 .arg(sizeList.join(QStringLiteral(", ")))
                 .arg(panel->width())
                 .arg(panel->height());
    size_t next = 0;
    for (const Setup& s : setups) {
        tabs->setCurrentIndex(s.tab);
        heatmap->setTiled(s.tiled);
        auto select = [&] {
            const auto& [elements, tensor] = sizes[next++ % sizes.size()];
            graph->selectNode(graph->nodeForTensor(tensor));
            return elements;
        };
        select();  // warm-up: the tab's views draw once
        QCoreApplication::processEvents();
        // Per switch: the --verbose number (data + redraw); that plus painting the views (into
        // an image, so nothing else on screen is painted); the whole click with the rest of
        // the window (inspector, graph) laid out and painted, in wall and thread CPU time.
        std::vector<double> update, views, click, cpu, largest;
        QImage image(panel->size(), QImage::Format_ARGB32_Premultiplied);
        for (int i = 0; i < switches; ++i) {
            QElapsedTimer timer;
            timer.start();
            const double cpu0 = threadCpuMs();
            const int64_t elements = select();
            const double ms = window.lastTensorViewsMs();
            // The extra render is left out of the click's time.
            const double render0 = static_cast<double>(timer.nsecsElapsed()) / 1e6;
            const double renderCpu0 = threadCpuMs();
            panel->render(&image);
            const double renderMs = static_cast<double>(timer.nsecsElapsed()) / 1e6 - render0;
            const double renderCpu = threadCpuMs() - renderCpu0;
            QCoreApplication::processEvents();
            update.push_back(ms);
            views.push_back(ms + renderMs);
            if (elements == sizes.front().first) largest.push_back(views.back());
            click.push_back(static_cast<double>(timer.nsecsElapsed()) / 1e6 - renderMs);
            cpu.push_back(threadCpuMs() - cpu0 - renderCpu);
        }
        lines << QStringLiteral(
                     "bench views %1: update %2, views painted %3 (at %4 elements "
                     "%5); whole click %6, cpu %7")
                     .arg(QLatin1String(s.name), stats(update), stats(views))
                     .arg(sizes.front().first)
                     .arg(stats(largest), stats(click), stats(cpu));
    }
    heatmap->setTiled(tiled0);
    tabs->setCurrentIndex(tab0);
    return lines;
}

}  // namespace qs::app
