#include "widgets/graph/graph_layout.h"

#include <algorithm>
#include <numeric>

namespace qs::widgets {

namespace {

// Positions (0..n-1) of nodes within their layer; crossings between two adjacent layers are
// the inversions of the lower endpoints once edges are sorted by upper endpoint
// (Barth, Juenger, Mutzel, "Simple and efficient bilayer cross counting", 2002).
long long countCrossings(const std::vector<std::vector<int>>& layers,
                         const std::vector<std::vector<int>>& down, const std::vector<int>& pos) {
    long long total = 0;
    std::vector<std::pair<int, int>> pairs;
    std::vector<int> tree;
    for (size_t l = 0; l + 1 < layers.size(); ++l) {
        pairs.clear();
        for (int u : layers[l]) {
            for (int v : down[static_cast<size_t>(u)]) pairs.emplace_back(pos[u], pos[v]);
        }
        if (pairs.size() < 2) continue;
        std::sort(pairs.begin(), pairs.end());
        const size_t width = layers[l + 1].size();
        tree.assign(width + 1, 0);
        long long seen = 0;
        for (const auto& [a, b] : pairs) {
            // Count earlier edges whose lower end lies strictly right of b.
            long long notGreater = 0;
            for (int i = b + 1; i > 0; i -= i & -i) notGreater += tree[static_cast<size_t>(i)];
            total += seen - notGreater;
            for (size_t i = static_cast<size_t>(b) + 1; i <= width; i += i & (~i + 1)) ++tree[i];
            ++seen;
        }
    }
    return total;
}

// Minimal squared displacement of an ordered row: x[i] as close as possible to want[i] with
// x[i+1] - x[i] >= sep[i]. Substituting y = x - offset turns it into isotonic regression,
// solved by pool-adjacent-violators in linear time.
void placeRow(const std::vector<double>& want, const std::vector<double>& sep,
              const std::vector<double>& weight, std::vector<double>& x) {
    const size_t n = want.size();
    std::vector<double> offset(n, 0.0);
    for (size_t i = 1; i < n; ++i) offset[i] = offset[i - 1] + sep[i - 1];
    struct Block {
        double sum, w;
        size_t count;
    };
    std::vector<Block> blocks;
    blocks.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        blocks.push_back({(want[i] - offset[i]) * weight[i], weight[i], 1});
        while (blocks.size() > 1) {
            const Block& b = blocks[blocks.size() - 1];
            const Block& a = blocks[blocks.size() - 2];
            if (a.sum / a.w <= b.sum / b.w) break;
            const Block merged{a.sum + b.sum, a.w + b.w, a.count + b.count};
            blocks.pop_back();
            blocks.back() = merged;
        }
    }
    x.resize(n);
    size_t i = 0;
    for (const Block& b : blocks) {
        for (size_t k = 0; k < b.count; ++k, ++i) x[i] = b.sum / b.w + offset[i];
    }
}

}  // namespace

GraphLayout layoutGraph(const std::vector<QSizeF>& sizes,
                        const std::vector<std::pair<int, int>>& edges,
                        const LayoutSpacing& spacing) {
    GraphLayout out;
    const int n = static_cast<int>(sizes.size());
    out.centres.assign(static_cast<size_t>(n), QPointF());
    out.routes.assign(edges.size(), {});
    if (n == 0) return out;

    // Topological order (Kahn); nodes left over by a cycle follow in index order, and any edge
    // pointing backwards in the final order is reversed for layering.
    std::vector<std::vector<int>> succ(static_cast<size_t>(n));
    std::vector<int> indeg(static_cast<size_t>(n), 0);
    for (const auto& [a, b] : edges) {
        if (a == b || a < 0 || b < 0 || a >= n || b >= n) continue;
        succ[static_cast<size_t>(a)].push_back(b);
        ++indeg[static_cast<size_t>(b)];
    }
    std::vector<int> order;
    order.reserve(static_cast<size_t>(n));
    for (int v = 0; v < n; ++v) {
        if (indeg[v] == 0) order.push_back(v);
    }
    for (size_t i = 0; i < order.size(); ++i) {
        for (int w : succ[static_cast<size_t>(order[i])]) {
            if (--indeg[static_cast<size_t>(w)] == 0) order.push_back(w);
        }
    }
    std::vector<int> rank(static_cast<size_t>(n), -1);
    for (size_t i = 0; i < order.size(); ++i)
        rank[static_cast<size_t>(order[i])] = static_cast<int>(i);
    for (int v = 0; v < n; ++v) {
        if (rank[v] < 0) {
            rank[v] = static_cast<int>(order.size());
            order.push_back(v);
        }
    }
    struct DirectedEdge {
        int from, to;
        bool reversed;
    };
    std::vector<DirectedEdge> dag(edges.size(), {-1, -1, false});
    std::vector<std::vector<int>> preds(static_cast<size_t>(n));
    for (size_t e = 0; e < edges.size(); ++e) {
        auto [a, b] = edges[e];
        if (a == b || a < 0 || b < 0 || a >= n || b >= n) continue;
        const bool rev = rank[a] > rank[b];
        if (rev) std::swap(a, b);
        dag[e] = {a, b, rev};
        preds[static_cast<size_t>(b)].push_back(a);
    }

    // Longest-path layering, then sources pulled down next to their first consumer so graph
    // inputs do not all sit on the top row with long edges hanging from them.
    std::vector<int> layer(static_cast<size_t>(n), 0);
    for (int v : order) {
        for (int u : preds[static_cast<size_t>(v)]) layer[v] = std::max(layer[v], layer[u] + 1);
    }
    std::vector<std::vector<int>> dagSucc(static_cast<size_t>(n));
    for (const auto& e : dag) {
        if (e.from >= 0) dagSucc[static_cast<size_t>(e.from)].push_back(e.to);
    }
    for (int v = 0; v < n; ++v) {
        if (!preds[v].empty() || dagSucc[v].empty()) continue;
        int lowest = layer[dagSucc[v].front()];
        for (int w : dagSucc[v]) lowest = std::min(lowest, layer[w]);
        layer[v] = std::max(0, lowest - 1);
    }
    const int layerCount = 1 + *std::max_element(layer.begin(), layer.end());

    // Proper layered graph: a chain of dummy nodes for every edge longer than one layer.
    std::vector<int> nodeLayer = layer;
    std::vector<std::vector<int>> chains(edges.size());
    for (size_t e = 0; e < dag.size(); ++e) {
        if (dag[e].from < 0) continue;
        auto& chain = chains[e];
        chain.push_back(dag[e].from);
        for (int l = layer[dag[e].from] + 1; l < layer[dag[e].to]; ++l) {
            chain.push_back(static_cast<int>(nodeLayer.size()));
            nodeLayer.push_back(l);
        }
        chain.push_back(dag[e].to);
    }
    const int total = static_cast<int>(nodeLayer.size());
    out.dummies = total - n;
    out.layers = layerCount;
    std::vector<std::vector<int>> up(static_cast<size_t>(total)), down(static_cast<size_t>(total));
    for (const auto& chain : chains) {
        for (size_t i = 0; i + 1 < chain.size(); ++i) {
            down[static_cast<size_t>(chain[i])].push_back(chain[i + 1]);
            up[static_cast<size_t>(chain[i + 1])].push_back(chain[i]);
        }
    }

    // Initial order: real nodes in topological order, dummies after them; the first down sweep
    // sorts everything by barycentre anyway.
    std::vector<std::vector<int>> layers(static_cast<size_t>(layerCount));
    for (int v : order) layers[static_cast<size_t>(layer[v])].push_back(v);
    for (const auto& chain : chains) {
        for (size_t i = 1; i + 1 < chain.size(); ++i) {
            layers[static_cast<size_t>(nodeLayer[chain[i]])].push_back(chain[i]);
        }
    }
    std::vector<int> pos(static_cast<size_t>(total), 0);
    const auto renumber = [&] {
        for (auto& row : layers) {
            for (size_t i = 0; i < row.size(); ++i)
                pos[static_cast<size_t>(row[i])] = static_cast<int>(i);
        }
    };
    renumber();

    std::vector<std::vector<int>> best = layers;
    long long bestCrossings = countCrossings(layers, down, pos);
    std::vector<double> bary(static_cast<size_t>(total), 0.0);
    const auto sweepRow = [&](std::vector<int>& row, const std::vector<std::vector<int>>& adj) {
        for (int v : row) {
            const auto& nb = adj[static_cast<size_t>(v)];
            if (nb.empty()) {
                bary[v] = pos[v];  // stays where it is relative to the others
                continue;
            }
            double s = 0;
            for (int w : nb) s += pos[w];
            bary[v] = s / static_cast<double>(nb.size());
        }
        std::stable_sort(row.begin(), row.end(), [&](int a, int b) { return bary[a] < bary[b]; });
        for (size_t i = 0; i < row.size(); ++i)
            pos[static_cast<size_t>(row[i])] = static_cast<int>(i);
    };
    for (int s = 0; s < spacing.sweeps && bestCrossings > 0; ++s) {
        if (s % 2 == 0) {
            for (int l = 1; l < layerCount; ++l) sweepRow(layers[static_cast<size_t>(l)], up);
        } else {
            for (int l = layerCount - 2; l >= 0; --l)
                sweepRow(layers[static_cast<size_t>(l)], down);
        }
        const long long c = countCrossings(layers, down, pos);
        if (c < bestCrossings) {
            bestCrossings = c;
            best = layers;
        }
    }
    layers = std::move(best);
    renumber();
    out.crossings = bestCrossings;

    // Sizes (dummies are thin) and layer heights.
    std::vector<double> width(static_cast<size_t>(total), 2.0),
        height(static_cast<size_t>(total), 0.0);
    for (int v = 0; v < n; ++v) {
        width[v] = sizes[v].width();
        height[v] = sizes[v].height();
    }
    std::vector<double> layerY(static_cast<size_t>(layerCount), 0.0),
        layerH(static_cast<size_t>(layerCount), 0.0);
    for (int v = 0; v < total; ++v)
        layerH[nodeLayer[v]] = std::max(layerH[nodeLayer[v]], height[v]);
    for (int l = 1; l < layerCount; ++l)
        layerY[l] = layerY[l - 1] + layerH[l - 1] + spacing.layerGap;

    // x: packed rows first, then alternating passes that pull each node towards the mean of its
    // neighbours above (down pass) or below (up pass) while keeping order and spacing. Dummy
    // nodes weigh more so long edges stay straight.
    std::vector<double> x(static_cast<size_t>(total), 0.0);
    std::vector<double> want, sep, weight, placed;
    const auto separation = [&](int a, int b) {
        const bool dummy = a >= n || b >= n;
        return (width[a] + width[b]) / 2 + (dummy ? spacing.dummyGap : spacing.nodeGap);
    };
    for (auto& row : layers) {
        double cursor = 0;
        for (size_t i = 0; i < row.size(); ++i) {
            if (i) cursor += separation(row[i - 1], row[i]);
            x[static_cast<size_t>(row[i])] = cursor;
        }
    }
    std::vector<char> leafSource(static_cast<size_t>(total), 0);
    for (int v = 0; v < n; ++v) {
        leafSource[static_cast<size_t>(v)] =
            up[static_cast<size_t>(v)].empty() && down[static_cast<size_t>(v)].size() == 1;
    }
    const auto placePass = [&](int l, bool useUp, bool useDown) {
        auto& row = layers[static_cast<size_t>(l)];
        if (row.empty()) return;
        want.assign(row.size(), 0.0);
        weight.assign(row.size(), 1.0);
        sep.assign(row.size() > 1 ? row.size() - 1 : 0, 0.0);
        for (size_t i = 0; i < row.size(); ++i) {
            const int v = row[i];
            double s = 0;
            int count = 0;
            if (useUp) {
                // Leaf sources (constants turned into ops, e.g. DEQUANTIZE of a weight) sit
                // beside their consumer; letting them pull the consumer makes every layer
                // drift sideways into a staircase. They count only when nothing else does.
                int real = 0;
                for (int w : up[static_cast<size_t>(v)]) {
                    if (!leafSource[static_cast<size_t>(w)]) s += x[w], ++real;
                }
                count = real;
                if (real == 0) {
                    for (int w : up[static_cast<size_t>(v)]) s += x[w], ++count;
                }
            }
            if (useDown) {
                for (int w : down[static_cast<size_t>(v)]) s += x[w], ++count;
            }
            want[i] = count ? s / count : x[v];
            // Leaf sources yield to everything else in their row.
            weight[i] = v >= n                               ? 4.0
                        : leafSource[static_cast<size_t>(v)] ? 0.05
                                                             : 1.0 + 0.25 * count;
            if (i) sep[i - 1] = separation(row[i - 1], v);
        }
        placeRow(want, sep, weight, placed);
        for (size_t i = 0; i < row.size(); ++i) x[static_cast<size_t>(row[i])] = placed[i];
    };
    for (int iter = 0; iter < 4; ++iter) {
        for (int l = 1; l < layerCount; ++l) placePass(l, true, false);
        for (int l = layerCount - 2; l >= 0; --l) placePass(l, false, true);
    }
    for (int l = 0; l < layerCount; ++l) placePass(l, true, true);

    // Shift so the drawing starts at (0, 0).
    double minX = 0, maxX = 0;
    bool first = true;
    for (int v = 0; v < total; ++v) {
        const double lo = x[v] - width[v] / 2, hi = x[v] + width[v] / 2;
        minX = first ? lo : std::min(minX, lo);
        maxX = first ? hi : std::max(maxX, hi);
        first = false;
    }
    const auto centreOf = [&](int v) {
        const int l = nodeLayer[v];
        return QPointF(x[v] - minX, layerY[l] + layerH[l] / 2);
    };
    for (int v = 0; v < n; ++v) out.centres[static_cast<size_t>(v)] = centreOf(v);
    const double totalHeight = layerY.back() + layerH.back();
    out.bounds = QRectF(0, 0, maxX - minX, totalHeight);

    // Routes. Several edges leaving (entering) one node get ports spread along its bottom (top)
    // edge in the order of their next bend point, so they do not overlap.
    std::vector<std::vector<std::pair<double, size_t>>> outPorts(static_cast<size_t>(n)),
        inPorts(static_cast<size_t>(n));
    for (size_t e = 0; e < chains.size(); ++e) {
        const auto& c = chains[e];
        if (c.empty()) continue;
        outPorts[static_cast<size_t>(c.front())].emplace_back(x[c[1]], e);
        inPorts[static_cast<size_t>(c.back())].emplace_back(x[c[c.size() - 2]], e);
    }
    std::vector<double> outX(edges.size(), 0.0), inX(edges.size(), 0.0);
    const auto spread = [&](std::vector<std::pair<double, size_t>>& ports, int v,
                            std::vector<double>& portX) {
        std::sort(ports.begin(), ports.end());
        const double usable = width[v] * 0.6;
        for (size_t i = 0; i < ports.size(); ++i) {
            const double t = ports.size() == 1 ? 0.5 : static_cast<double>(i) / (ports.size() - 1);
            portX[ports[i].second] = x[v] - minX - usable / 2 + usable * t;
        }
    };
    for (int v = 0; v < n; ++v) {
        spread(outPorts[static_cast<size_t>(v)], v, outX);
        spread(inPorts[static_cast<size_t>(v)], v, inX);
    }
    for (size_t e = 0; e < chains.size(); ++e) {
        const auto& c = chains[e];
        if (c.empty()) continue;
        auto& route = out.routes[e];
        route.reserve(c.size());
        route.emplace_back(outX[e], centreOf(c.front()).y() + height[c.front()] / 2);
        for (size_t i = 1; i + 1 < c.size(); ++i) route.push_back(centreOf(c[i]));
        route.emplace_back(inX[e], centreOf(c.back()).y() - height[c.back()] / 2);
        if (dag[e].reversed) std::reverse(route.begin(), route.end());
    }
    return out;
}

}  // namespace qs::widgets
