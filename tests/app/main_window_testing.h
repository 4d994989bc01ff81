// Helpers shared by the GUI tests that drive a MainWindow.
#pragma once

#include <QtTest>

#include "app/gui/main_window.h"
#include "app/gui/run_controller.h"
#include "widgets/graph/graph_panel.h"
#include "widgets/graph/graph_view.h"

namespace qs::test {

// Waits until the run started last has delivered an outcome other than `before` and no run is
// active any more.
inline bool waitForRun(const app::MainWindow& w, const app::RunOutcome* before = nullptr) {
    return QTest::qWaitFor(
        [&] { return w.lastOutcome() && w.lastOutcome() != before && !w.runs()->running(); },
        180000);
}

// Selects the graph node producing (or being) `tensor`; false when the graph has none.
inline bool selectTensor(app::MainWindow& w, int tensor) {
    auto* view = w.graphPanel()->view();
    const int node = view->nodeForTensor(tensor);
    if (node < 0) return false;
    view->selectNode(node);
    return true;
}

}  // namespace qs::test
