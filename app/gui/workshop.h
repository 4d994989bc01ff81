// Workshop (presenter) mode: the application font enlarged and a high-contrast palette, applied
// to every widget and every plot (widgets/plots/plot_style.h restylePlot), and undone exactly.
#pragma once

namespace qs::app {

// Font scale of workshop mode, and the smallest point size it gives.
inline constexpr double kWorkshopFontScale = 1.6;
inline constexpr double kWorkshopMinPointSize = 15.0;

void applyWorkshopStyle(bool on);
bool workshopStyleActive();

}  // namespace qs::app
