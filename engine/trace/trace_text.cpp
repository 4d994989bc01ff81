// formatTrace: the element trace as aligned plain text (quantscope-cli trace, tooltips).
#include <algorithm>
#include <cstdio>

#include "engine/trace/element_trace.h"
#include "model/str_format.h"

namespace qs::engine::trace {

namespace {

std::string coordString(std::span<const int32_t> c) {
    std::string s = "(";
    for (size_t i = 0; i < c.size(); ++i) s += (i ? "," : "") + std::to_string(c[i]);
    return s + ")";
}

std::string pad(std::string s, size_t width, bool right = false) {
    if (s.size() >= width) return s;
    return right ? std::string(width - s.size(), ' ') + s : s + std::string(width - s.size(), ' ');
}

std::string real(double v) {
    char b[64];
    std::snprintf(b, sizeof b, "%.9g", v);
    return b;
}

}  // namespace

std::string formatTrace(const ElementTrace& t, size_t max_terms) {
    std::string out;
    out += strFormat("op {} {} -> tensor {} '{}', element {} (flat {}), {}\n", t.op.value,
                     t.op_name, t.output.value, t.output_name, coordString(t.element), t.flat_index,
                     model::dtypeName(t.dtype));
    if (t.run_output) out += strFormat("value in the run: {}\n", *t.run_output);

    // Terms.
    const bool weights = !t.terms.empty() && t.terms.front().has_weight;
    out += strFormat(
        "\nterms ({}{}):\n", t.terms.size(),
        t.skipped_taps ? strFormat(", {} taps in padding skipped", t.skipped_taps) : std::string());
    std::vector<std::vector<std::string>> rows;
    rows.push_back(weights ? std::vector<std::string>{"#", "input", "q", "q-zp", "weight", "w",
                                                      "w-zp", "product"}
                           : std::vector<std::string>{"#", "input", "coord", "q", "q-zp", "real"});
    for (size_t i = 0; i < t.terms.size() && i < max_terms; ++i) {
        const auto& m = t.terms[i];
        if (weights)
            rows.push_back({std::to_string(i), coordString(m.input_coord),
                            std::to_string(m.input_q), std::to_string(m.input_centered),
                            coordString(m.weight_coord), std::to_string(m.weight_q),
                            std::to_string(m.weight_centered), std::to_string(m.product)});
        else
            rows.push_back({std::to_string(i), std::to_string(m.input), coordString(m.input_coord),
                            std::to_string(m.input_q), std::to_string(m.input_centered),
                            real(m.input_real)});
    }
    std::vector<size_t> w(rows.front().size(), 0);
    for (const auto& r : rows)
        for (size_t k = 0; k < r.size(); ++k) w[k] = std::max(w[k], r[k].size());
    for (const auto& r : rows) {
        out += "  ";
        // Coordinates left-aligned, numbers right-aligned.
        for (size_t k = 0; k < r.size(); ++k) {
            const bool coord = weights ? (k == 1 || k == 4) : k == 2;
            out += pad(r[k], w[k], !coord) + "  ";
        }
        while (!out.empty() && out.back() == ' ') out.pop_back();
        out += "\n";
    }
    if (t.terms.size() > max_terms) out += strFormat("  ... {} more\n", t.terms.size() - max_terms);

    // Steps: one width for every label and value, so all profiles line up.
    size_t lw = 0, vw = 0;
    auto measure = [&](const TraceStep& s) {
        lw = std::max(lw, s.label.size());
        // Parameter texts are long; they start in the value column and run on.
        if (s.value.kind != StepValue::Kind::Text) vw = std::max(vw, s.value.toString().size());
    };
    for (const auto& s : t.common) measure(s);
    for (const auto& p : t.profiles)
        for (const auto& s : p.steps) measure(s);
    lw = std::min<size_t>(lw, 48);
    vw = std::min<size_t>(vw, 60);
    auto line = [&](const TraceStep& s) {
        std::string l = "  " + pad(s.label, lw) + "  " +
                        (s.value.kind == StepValue::Kind::Text ? s.value.text
                                                               : pad(s.value.toString(), vw, true));
        if (!s.formula.empty()) l += "   " + s.formula;
        if (s.parting) l += "   <== profiles part";
        return l + "\n";
    };
    out += "\ncommon:\n";
    for (const auto& s : t.common) out += line(s);
    out += strFormat("  {}  {}   dequantized inputs in double, activation applied\n",
                     pad("float reference", lw), pad(real(t.float_value), vw, true));
    out += strFormat("  {}  {}   float / s_out + zp_out, before rounding\n",
                     pad("on the output grid", lw), pad(real(t.float_ideal_q), vw, true));
    for (const auto& p : t.profiles) {
        out += strFormat("\nprofile {} ({}){}\n", profileName(p.profile), p.rule,
                         p.upstream.empty() ? std::string() : "  [" + p.upstream + "]");
        for (const auto& s : p.steps) out += line(s);
        out += strFormat("  {}  {}   = {} dequantized\n", pad("output", lw),
                         pad(std::to_string(p.output), vw, true), real(p.output_real));
    }
    out += "\n";
    if (t.parting) {
        out += strFormat("profiles part at '{}' ({}):", t.parting->label, t.parting->key);
        for (const auto& p : t.profiles)
            for (const auto& s : p.steps)
                if (s.parting)
                    out += strFormat(" {} {};", profileName(p.profile), s.value.toString());
        out.back() = '\n';
        out += t.outputs_differ ? "the final outputs differ\n"
                                : "the final outputs agree (the difference was absorbed later)\n";
    } else if (t.profiles.size() > 1) {
        out += "all profiles agree at every step\n";
    }
    for (const auto& n : t.notes) out += "note: " + n + "\n";
    return out;
}

}  // namespace qs::engine::trace
