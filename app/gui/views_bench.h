// Timing of the tensor views (`quantscope MODEL --bench-views N`): after a run, switches N
// times among the largest compared tensors with each tab of the views shown, the way a user
// clicks through the graph, and prints min/median/max per tab of the update (data + redraw,
// the --verbose number), of the views painted, and of the whole click (inspector and the
// rest of the window included).
#pragma once

#include <QString>
#include <QStringList>

namespace qs::app {

class MainWindow;

// One line per tab setup; empty with `*error` set when the run has fewer than two compared
// tensors to switch between. `switches` >= 1.
QStringList benchTensorViews(MainWindow& window, int switches, QString* error);

}  // namespace qs::app
