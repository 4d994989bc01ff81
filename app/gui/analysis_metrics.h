// The MetricSource of engine/analysis: the quantized model against its float twin (or a paired
// float model), accumulated or local error, on the run's input sample.
#pragma once

#include "app/gui/metric_source.h"

namespace qs::app {

class AnalysisMetrics : public MetricSource {
public:
    Result<MetricTable> compute(const MetricRequest& request,
                                const std::function<bool(int, int)>& progress) override;
};

// The table's columns: (display name, kMetrics name, unit), most telling first.
struct MetricColumnDef {
    const char* display;
    const char* key;
    const char* unit;
};
const std::vector<MetricColumnDef>& metricColumnDefs();

}  // namespace qs::app
