// The element trace as JSON (quantscope-cli trace --json, the GUI's trace export): the op,
// tensor, element, run value, float value, terms, common steps, one object per profile with
// its steps and `output`, the parting step (or null) and notes.
#include <nlohmann/json.hpp>

#include "engine/trace/element_trace.h"

namespace qs::engine::trace {

namespace {

using nlohmann::ordered_json;

ordered_json stepJson(const TraceStep& s) {
    ordered_json j;
    j["key"] = s.key;
    j["label"] = s.label;
    j["formula"] = s.formula;
    switch (s.value.kind) {
        case StepValue::Kind::Integer:
            j["value"] = s.value.integer;
            break;
        case StepValue::Kind::Real:
            j["value"] = s.value.real;
            break;
        case StepValue::Kind::Text:
            j["value"] = s.value.text;
            break;
    }
    j["stage"] = s.stage;
    j["comparable"] = s.comparable;
    j["parting"] = s.parting;
    return j;
}

ordered_json traceObject(const ElementTrace& t) {
    ordered_json j;
    j["op"] = t.op.value;
    j["op_name"] = t.op_name;
    j["tensor"] = t.output.value;
    j["tensor_name"] = t.output_name;
    j["dtype"] = std::string(model::dtypeName(t.dtype));
    j["element"] = t.element;
    j["flat_index"] = t.flat_index;
    j["run_output"] = t.run_output ? ordered_json(*t.run_output) : ordered_json(nullptr);
    j["float_value"] = t.float_value;
    j["float_ideal_q"] = t.float_ideal_q;
    ordered_json terms = ordered_json::array();
    for (const auto& m : t.terms) {
        ordered_json tj;
        tj["input"] = m.input;
        tj["input_coord"] = m.input_coord;
        tj["input_q"] = m.input_q;
        tj["input_centered"] = m.input_centered;
        tj["input_real"] = m.input_real;
        if (m.has_weight) {
            tj["weight_coord"] = m.weight_coord;
            tj["weight_q"] = m.weight_q;
            tj["weight_centered"] = m.weight_centered;
            tj["weight_real"] = m.weight_real;
            tj["product"] = m.product;
        }
        terms.push_back(std::move(tj));
    }
    j["terms"] = std::move(terms);
    j["skipped_taps"] = t.skipped_taps;
    ordered_json common = ordered_json::array();
    for (const auto& s : t.common) common.push_back(stepJson(s));
    j["common"] = std::move(common);
    ordered_json profiles = ordered_json::array();
    for (const auto& p : t.profiles) {
        ordered_json pj;
        pj["profile"] = std::string(profileName(p.profile));
        pj["rule"] = p.rule;
        pj["upstream"] = p.upstream;
        ordered_json steps = ordered_json::array();
        for (const auto& s : p.steps) steps.push_back(stepJson(s));
        pj["steps"] = std::move(steps);
        pj["output"] = p.output;
        pj["output_real"] = p.output_real;
        profiles.push_back(std::move(pj));
    }
    j["profiles"] = std::move(profiles);
    if (t.parting) {
        ordered_json pj;
        pj["key"] = t.parting->key;
        pj["label"] = t.parting->label;
        pj["stage"] = t.parting->stage;
        ordered_json names = ordered_json::array();
        for (auto p : t.parting->profiles) names.push_back(std::string(profileName(p)));
        pj["profiles"] = std::move(names);
        j["parting"] = std::move(pj);
    } else {
        j["parting"] = nullptr;
    }
    j["notes"] = t.notes;
    return j;
}

}  // namespace

std::string traceJson(const ElementTrace& trace, int indent) {
    return traceObject(trace).dump(indent);
}

}  // namespace qs::engine::trace
