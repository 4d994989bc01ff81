// The model's DAG, top to bottom, on a QGraphicsScene: one item per node, one per edge.
// QGraphicsView gives pan, zoom, hit testing, selection, item tooltips and SVG/PNG export
// through QGraphicsScene::render for free; its painting is fast enough for 1000-op graphs
// because nodes drop their text below a zoom level (level of detail), see graph_view.cpp.
#pragma once

#include <QGraphicsView>
#include <QVector>

#include "widgets/graph/graph_layout.h"
#include "widgets/graph/graph_model.h"

namespace qs::widgets {

class NodeItem;
class GraphOverview;

class GraphView : public QGraphicsView {
    Q_OBJECT
public:
    explicit GraphView(QWidget* parent = nullptr);
    ~GraphView() override;

    // Lays the graph out and rebuilds the scene.
    void setGraph(const GraphModel& graph);
    // Same nodes and edges, new values / greyed flags / tooltips: recolours without layout.
    // Falls back to setGraph when the node count differs.
    void updateGraph(const GraphModel& graph);
    const GraphModel& graph() const { return m_graph; }
    const GraphLayout& layout() const { return m_layout; }
    double lastLayoutMs() const { return m_layoutMs; }

    int nodeItemCount() const { return static_cast<int>(m_nodes.size()); }
    NodeItem* nodeItem(int node) const;
    // Nodes whose badness exceeds the threshold are outlined.
    void setThreshold(double value);
    double threshold() const { return m_threshold; }
    int nodesPastThreshold() const;

    // The selected node (-1 when none); selecting centres it.
    int selectedNode() const;
    void selectNode(int node, bool centre = true);
    int nodeForOp(int op) const;
    int nodeForTensor(int tensor) const;

    // Finds the next node after the selected one whose type, options or tensor names contain
    // `text` (case-insensitive), wrapping around; selects it. Returns it, or -1.
    int findNext(const QString& text);

    // Renders the whole graph to .png or .svg (chosen by the suffix).
    bool exportImage(const QString& path, QString* error) const;

    GraphOverview* overview() const { return m_overview; }
    double zoom() const;

public slots:
    void fitAll();
    void zoomBy(double factor);

signals:
    // The user (or selectNode) changed the selection; node -1 when cleared.
    void nodeSelected(int node, int op, int tensor);
    // The viewport was painted (after a graph or its colours changed: one signal per change).
    void painted();
    void viewChanged();

protected:
    void wheelEvent(QWheelEvent* event) override;
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void scrollContentsBy(int dx, int dy) override;
    void changeEvent(QEvent* event) override;
    void drawBackground(QPainter* painter, const QRectF& rect) override;

private:
    void rebuildScene();
    void applyNodeState();
    void placeOverview();

    GraphModel m_graph;
    GraphLayout m_layout;
    QVector<NodeItem*> m_nodes;
    QVector<QGraphicsItem*> m_edges;
    double m_threshold = 1.0;
    double m_layoutMs = 0.0;
    bool m_paintPending = false;
    bool m_selecting = false;
    GraphOverview* m_overview;
};

}  // namespace qs::widgets
